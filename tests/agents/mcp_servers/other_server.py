"""A second real MCP server whose tool `add` collides with calc_server's."""

from mcp.server.mcpserver import MCPServer

server = MCPServer("other")


@server.tool()
def add(x: str, y: str) -> str:
    """Concatenate two strings."""
    return x + y


@server.tool()
def upper(text: str) -> str:
    """Upper-case a text."""
    return text.upper()


if __name__ == "__main__":
    server.run("stdio")
