"""MCP tools: any Model Context Protocol server's tools as forgekit tools (stdio and
streamable HTTP, through the official `mcp` SDK). See docs/mcp.md."""

from forgekit.agents.mcp.hub import MCPHub, ServerStatus
from forgekit.agents.mcp.servers import MCPConfig, MCPServerConfig, parse_mcp_config
from forgekit.agents.mcp.tool import MCPTool

__all__ = ["MCPConfig", "MCPHub", "MCPServerConfig", "MCPTool", "ServerStatus", "parse_mcp_config"]
