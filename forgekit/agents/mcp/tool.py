"""An MCP server's tool as a forgekit `Tool`: the server's JSON schema goes to the model as
it is, arguments are checked against it (jsonschema), and a call goes through the hub to
the server's connection. Because it is a `Tool`, the agent runs it like a native one:
policy, approval, a recorded ToolCallEvent (with the server), redaction."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, create_model

from forgekit.agents.tools import Effect, Tool, ToolEnv, ToolError, parse_arguments

if TYPE_CHECKING:
    from forgekit.agents.mcp.hub import MCPHub

_ANY_ARGS = create_model("mcp_args", __config__=ConfigDict(extra="allow"))
_BAD = re.compile(r"[^A-Za-z0-9_\-]")


def model_name(prefix: str, remote: str) -> str:
    """The name the model sees: the prefix plus the server's name, made function-safe."""
    return (prefix + _BAD.sub("_", remote))[:64]


class MCPTool(Tool):
    """One tool of one MCP server (see the module docstring)."""

    def __init__(
        self,
        hub: MCPHub,
        server: str,
        remote: Any,  # mcp.types.Tool
        *,
        prefix: str = "",
        effect: Effect | None = None,
    ) -> None:
        annotations = getattr(remote, "annotations", None)
        read_only = bool(getattr(annotations, "read_only_hint", False))
        super().__init__(
            model_name(prefix, remote.name),
            " ".join((remote.description or remote.name).split()),
            self._unused,
            args_model=_ANY_ARGS,
            effect=effect or ("read" if read_only else "write"),
        )
        self.hub = hub
        self.server = server
        self.remote_name: str = remote.name
        self.schema: dict[str, Any] = dict(remote.input_schema or {"type": "object"})

    @staticmethod
    def _unused(**kwargs: Any) -> None:  # Tool wants a function; calls go to the server
        raise NotImplementedError

    def __component_config__(self) -> Any:
        from forgekit.core.errors import ConfigError

        raise ConfigError(
            f"the MCP tool {self.qualified_name!r} lives in its hub: give the agent the hub "
            "(Agent(mcp=hub)) so its config records the servers",
            key=f"tools.{self.name}",
        )

    @property
    def qualified_name(self) -> str:
        """`server.tool`, the name in records, listings and policy rules."""
        return f"{self.server}.{self.remote_name}"

    def __repr__(self) -> str:
        return f"MCPTool({self.qualified_name!r} as {self.name!r}, effect={self.effect!r})"

    def parameters(self) -> dict[str, Any]:
        schema = dict(self.schema)
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        return schema

    def validate(self, arguments: dict[str, Any] | str) -> BaseModel:
        arguments = parse_arguments(self.name, arguments)
        import jsonschema

        validator = jsonschema.Draft202012Validator(self.parameters())
        problems = sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))
        if problems:
            text = "; ".join(
                f"{'.'.join(map(str, p.path)) or '(args)'}: {p.message}" for p in problems[:5]
            )
            raise ToolError(f"invalid arguments for {self.name}: {text}")
        return _ANY_ARGS.model_validate(arguments)

    async def call(self, arguments: dict[str, Any] | str, env: ToolEnv | None = None) -> str:
        args = self.validate(arguments).model_dump()
        result = await self.hub.acall(self.server, self.remote_name, args)
        text = result_text(result)
        if getattr(result, "is_error", False):
            raise ToolError(f"{self.qualified_name} returned an error: {text or '(no text)'}")
        return text


def result_text(result: Any) -> str:
    """The text of a CallToolResult: its text parts; other parts named by their kind; the
    structured content as JSON when there is no text."""
    parts: list[str] = []
    for c in getattr(result, "content", None) or []:
        kind = getattr(c, "type", "")
        if kind == "text":
            parts.append(c.text)
        elif kind in ("image", "audio"):
            parts.append(f"[{kind}: {getattr(c, 'mime_type', '?')}]")
        elif kind == "resource":
            res = getattr(c, "resource", None)
            parts.append(getattr(res, "text", None) or f"[resource: {getattr(res, 'uri', '?')}]")
        elif kind == "resource_link":
            parts.append(f"[resource: {getattr(c, 'uri', '?')}]")
        else:
            parts.append(f"[{kind or type(c).__name__}]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        return json.dumps(structured, ensure_ascii=False, default=str)
    return "\n".join(parts)
