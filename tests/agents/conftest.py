"""Fixtures of the agents tests: a real MCP server over streamable HTTP."""

from __future__ import annotations

import socket
import sys

import pytest

from forgekit.core.processes import ManagedServer, free_port
from tests.agents.mcp_fixtures import CALC


def _listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def start_http_server(port: int) -> ManagedServer:
    """calc_server.py over streamable HTTP on `port`, once it listens."""
    proc = ManagedServer(
        [sys.executable, CALC, "http", str(port)],
        health_url=f"http://127.0.0.1:{port}/mcp",
        name="the HTTP MCP test server",
    ).start()
    proc.wait_healthy(60, poll_s=0.05, check=lambda: _listens(port))
    return proc


def stop(proc: ManagedServer) -> None:
    proc.stop(10)


@pytest.fixture(scope="session")
def http_server():
    """calc_server.py over streamable HTTP; yields its URL; stopped by process id."""
    port = free_port()
    proc = start_http_server(port)
    yield f"http://127.0.0.1:{port}/mcp"
    stop(proc)


@pytest.fixture
def http_server_control():
    """(start, stop, port): an HTTP server the test kills and restarts on one port."""
    port = free_port()
    procs: list[ManagedServer] = []

    def start() -> None:
        procs.append(start_http_server(port))

    def kill() -> None:
        stop(procs.pop())

    yield start, kill, port
    for p in procs:
        stop(p)
