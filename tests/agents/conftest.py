"""Fixtures of the agents tests: a real MCP server over streamable HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.agents.mcp_fixtures import CALC


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_http_server(port: int) -> subprocess.Popen:
    """calc_server.py over streamable HTTP on `port`, once it listens."""
    proc = subprocess.Popen(
        [sys.executable, CALC, "http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("the HTTP MCP test server exited at start") from None
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("the HTTP MCP test server did not listen within 60 s")
    return proc


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="session")
def http_server():
    """calc_server.py over streamable HTTP; yields its URL; stopped by process id."""
    port = _free_port()
    proc = start_http_server(port)
    yield f"http://127.0.0.1:{port}/mcp"
    stop(proc)


@pytest.fixture
def http_server_control():
    """(start, stop, port): an HTTP server the test kills and restarts on one port."""
    port = _free_port()
    procs: list[subprocess.Popen] = []

    def start() -> None:
        procs.append(start_http_server(port))

    def kill() -> None:
        stop(procs.pop())

    yield start, kill, port
    for p in procs:
        stop(p)
