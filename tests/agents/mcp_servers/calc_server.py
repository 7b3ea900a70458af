"""A real MCP server (the SDK's MCPServer) for the tests: tools that add, fail, crash,
sleep, and grow the tool list. Run as `python calc_server.py` (stdio) or
`python calc_server.py http PORT` (streamable HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("calc")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers and return the sum."""
    return a + b


@server.tool()
def divide(a: float, b: float) -> float:
    """Divide a by b."""
    if b == 0:
        raise ToolError("division by zero")
    return a / b


@server.tool()
def echo_secret(text: str) -> str:
    """Echo the text back."""
    return f"echo: {text}"


@server.tool()
def env_var(name: str) -> str:
    """The value of an environment variable the server sees."""
    return os.environ.get(name, "(unset)")


@server.tool()
def write_file(path: str, text: str) -> str:
    """Write a file (the sandbox decides where that is allowed)."""
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError as e:
        return f"refused: {e.strerror}"
    return "written"


@server.tool()
def crash() -> str:
    """Exit the server process in the middle of the call."""
    print("calc_server: crashing on purpose", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool()
async def slow(seconds: float) -> str:
    """Wait, then answer."""
    await asyncio.sleep(seconds)
    return "done"


@server.tool()
async def grow(ctx: Context) -> str:
    """Add a tool named `shout` and tell the client the tool list changed."""

    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    server.add_tool(shout)
    await ctx.session.send_tool_list_changed()
    return "grown"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
