"""How a stdio MCP server process is started: inside the tool sandbox (bubblewrap) when it
is available, else as a plain child process.

In the sandbox the server sees the host read-only, writes only to its workspace (the
server's `cwd`, else `.forgekit/mcp/<server>/`), has no network unless `network: true`,
and gets only the sandbox's minimal environment plus the server's `env`: never forgekit's
own environment or API keys. Without a sandbox (none installed, `sandbox: none` in
forgekit.yaml, or `sandbox: false` on the server) it gets the SDK's minimal safe
environment plus `env`, and the connection says it is not sandboxed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forgekit.agents.mcp.servers import MCPServerConfig

log = logging.getLogger("forgekit.mcp")


@dataclass
class Launch:
    """What starts one server: the SDK's parameters, the sandbox command to release after
    the process exits (None when not sandboxed), and why it is not sandboxed."""

    params: Any  # mcp.client.stdio.StdioServerParameters
    command: Any = None  # forgekit.core.sandbox.SandboxCommand
    unsandboxed_because: str | None = None

    @property
    def sandboxed(self) -> bool:
        return self.command is not None and bool(getattr(self.command, "sandboxed", False))

    def close(self) -> None:
        if self.command is not None:
            self.command.close()


def stdio_launch(
    name: str, cfg: MCPServerConfig, *, sandbox: Any = None, workspace: Path | None = None
) -> Launch:
    """The launch of a (resolved) stdio server config; `sandbox` is the project's
    SandboxConfig (None: the default, bubblewrap)."""
    from mcp.client.stdio import StdioServerParameters

    from forgekit.core.sandbox import Sandbox, SandboxConfig, SandboxUnavailable

    assert cfg.command is not None, f"server {name!r} is not a stdio server"
    import shutil

    program = shutil.which(cfg.command, path=None) or (
        cfg.cwd and shutil.which(str(Path(cfg.cwd) / cfg.command))
    )
    if not program:
        raise FileNotFoundError(
            f"command not found: {cfg.command!r} (mcp.servers.{name}.command; "
            "give a full path or a program on PATH)"
        )
    argv = [cfg.command, *cfg.args]
    plain = StdioServerParameters(
        command=cfg.command, args=list(cfg.args), env=dict(cfg.env) or None, cwd=cfg.cwd
    )
    sandbox = (
        sandbox
        if isinstance(sandbox, SandboxConfig)
        else SandboxConfig.model_validate(sandbox or {})
    )
    if not cfg.sandbox:
        return Launch(plain, unsandboxed_because=f"mcp.servers.{name}.sandbox is false")
    if sandbox.mode == "none":
        return Launch(plain, unsandboxed_because="forgekit.yaml says sandbox: none")
    ws = Path(cfg.cwd) if cfg.cwd else (workspace or Path.cwd() / ".forgekit" / "mcp" / name)
    try:
        sb = Sandbox(
            ws,
            config=sandbox,
            network=cfg.network,
            env=cfg.env,
            read_only=_own_paths(cfg, Path(program)),
        )
        cmd = sb.command(argv)
    except SandboxUnavailable as e:
        log.warning("mcp server %r runs without the sandbox: %s", name, e)
        return Launch(plain, unsandboxed_because=str(e))
    params = StdioServerParameters(command=cmd.argv[0], args=cmd.argv[1:], env=cmd.env, cwd=cmd.cwd)
    return Launch(params, command=cmd)


def _own_paths(cfg: MCPServerConfig, program: Path) -> list[Path]:
    """The server's program and the host paths named in its arguments (a script's folder,
    a config file's), shown read-only in the sandbox even where it masks their folder (the
    home folder, the host's /tmp): the user configured them, the model did not."""
    paths = [program]
    for a in cfg.args:
        p = Path(a) if Path(a).is_absolute() else Path(cfg.cwd or ".") / a
        if a and not a.startswith("-") and p.exists():  # a script: its folder (imports)
            paths.append(p.absolute() if p.is_dir() else p.absolute().parent)
    return paths
