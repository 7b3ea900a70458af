"""How a stdio MCP server process is started: its command, arguments, working folder and
environment (only what the config gives, over the SDK's minimal safe default: no API keys
of forgekit's own environment reach the server)."""

from __future__ import annotations

from typing import Any

from forgekit.agents.mcp.config import MCPServerConfig


def stdio_parameters(name: str, cfg: MCPServerConfig) -> Any:
    """The SDK's `StdioServerParameters` for a (resolved) stdio server config."""
    from mcp.client.stdio import StdioServerParameters

    assert cfg.command is not None, f"server {name!r} is not a stdio server"
    return StdioServerParameters(
        command=cfg.command, args=list(cfg.args), env=dict(cfg.env) or None, cwd=cfg.cwd
    )
