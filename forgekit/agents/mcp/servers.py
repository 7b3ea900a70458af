"""MCP server configuration: the `mcp:` section of forgekit.yaml, or the same in Python.

    mcp:
      servers:
        files:                                  # stdio: a command forgekit starts
          command: npx
          args: ["-y", "@modelcontextprotocol/server-filesystem", "."]
          env: {LOG_LEVEL: info}
          deny: [write_file]
        search:                                 # streamable HTTP: a running server
          url: http://127.0.0.1:8931/mcp
          headers: {Authorization: "Bearer ${SEARCH_TOKEN}"}
          prefix: search_
          allow: ["query*"]

`${VAR}` in `env`, `headers` and `url` is read from the environment when the server is
connected, so secrets never sit in the file. Every field is checked (`extra="forbid"`):
a typo is an error naming the file, line and key.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from forgekit.core.component import register_component
from forgekit.core.errors import ConfigError
from forgekit.core.yamlfile import load_yaml, validate

SCHEMA_VERSION = 1
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,31}")


class MCPServerConfig(BaseModel):
    """One MCP server: a command to start (stdio) or a URL (streamable HTTP).

    Attributes:
        command: the executable of a stdio server (with `args`, `env`, `cwd`).
        url: the endpoint of a streamable-HTTP server (with `headers`).
        prefix: prepended to the server's tool names as the model sees them; needed when
            two servers (or a server and a native tool) offer the same name.
        allow: glob patterns of tool names to offer (default: all).
        deny: glob patterns of tool names never offered (applied after `allow`).
        effect: what the server's tools may do, for the policy presets; default: "read"
            for tools annotated read-only, else "write".
        sandbox: start a stdio server in the tool sandbox when one is available.
        network: a stdio server started in the tool sandbox gets the network only if true.
        connect_timeout_s: the connect + initialize + list_tools deadline.
        call_timeout_s: the deadline of one tool call.
        health_interval_s: how often an idle connection is pinged.
        reconnect_initial_s / reconnect_max_s: the reconnect backoff (doubling).
    """

    model_config = ConfigDict(extra="forbid")

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    prefix: str = ""
    allow: list[str] = Field(default_factory=lambda: ["*"])
    deny: list[str] = Field(default_factory=list)
    effect: Literal["read", "write", "exec", "none"] | None = None
    sandbox: bool = True
    network: bool = False
    connect_timeout_s: float = Field(default=30.0, gt=0)
    call_timeout_s: float = Field(default=120.0, gt=0)
    health_interval_s: float = Field(default=15.0, gt=0)
    reconnect_initial_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _one_transport(self) -> MCPServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of command (stdio) or url (streamable HTTP)")
        if self.url is not None and (self.args or self.env or self.cwd):
            raise ValueError("args, env and cwd are for stdio servers (command), not url")
        if self.command is not None and self.headers:
            raise ValueError("headers are for HTTP servers (url), not command")
        if self.prefix and not re.fullmatch(r"[A-Za-z0-9_\-]{1,32}", self.prefix):
            raise ValueError("prefix must be letters, digits, _ and - (at most 32)")
        return self

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "stdio" if self.command is not None else "http"

    def offers(self, tool_name: str) -> bool:
        """Whether the allow/deny lists let the model see this tool."""
        if not any(fnmatch.fnmatchcase(tool_name, p) for p in self.allow):
            return False
        return not any(fnmatch.fnmatchcase(tool_name, p) for p in self.deny)

    def resolved(self, env: dict[str, str] | None = None) -> MCPServerConfig:
        """A copy with `${VAR}` replaced from the environment in env, headers and url."""
        env = dict(os.environ) if env is None else env

        def sub(text: str, where: str) -> str:
            def one(m: re.Match[str]) -> str:
                if m.group(1) not in env:
                    raise ConfigError(
                        f"environment variable {m.group(1)} is not set", key=f"mcp.{where}"
                    )
                return env[m.group(1)]

            return _VAR.sub(one, text)

        return self.model_copy(
            update={
                "env": {k: sub(v, f"env.{k}") for k, v in self.env.items()},
                "headers": {k: sub(v, f"headers.{k}") for k, v in self.headers.items()},
                "url": sub(self.url, "url") if self.url else None,
            }
        )


class MCPConfig(BaseModel):
    """The `mcp:` section: servers by name."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    servers: dict[str, MCPServerConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names(self) -> MCPConfig:
        for name in self.servers:
            if not _NAME.fullmatch(name):
                raise ValueError(
                    f"server name {name!r}: start with a letter; letters, digits, _ and -"
                )
        return self


register_component(MCPServerConfig, type="mcp_server", kind="mcp")
register_component(MCPConfig, type="mcp_config", kind="mcp")


def parse_mcp_config(
    data: MCPConfig | dict[str, Any] | None, *, source: str | Path | None = None
) -> MCPConfig:
    """An MCPConfig from the `mcp:` section (a dict), with errors naming file, line, key.

    With `source` (the forgekit.yaml the dict came from), a problem names its line."""
    if isinstance(data, MCPConfig):
        return data
    if source and Path(source).is_file():
        doc = load_yaml(source)
        if isinstance(doc.data, dict) and isinstance(doc.data.get("mcp"), dict):
            return validate(MCPConfig, doc, root=("mcp",))
    try:
        return MCPConfig.model_validate(data or {})
    except ValidationError as e:
        err = e.errors()[0]
        key = "mcp." + ".".join(map(str, err["loc"]))
        raise ConfigError(f"invalid mcp config: {err['msg']}", file=source, key=key) from None
