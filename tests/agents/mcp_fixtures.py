"""Helpers of the MCP tests: the real SDK servers in tests/agents/mcp_servers, stdio
configs for them, and a check for leaked child processes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

SERVERS = Path(__file__).parent / "mcp_servers"
CALC = str(SERVERS / "calc_server.py")
OTHER = str(SERVERS / "other_server.py")


def stdio(script: str = CALC, **extra) -> dict:
    """A stdio server config with fast health checks and reconnects (for tests)."""
    return {
        "command": sys.executable,
        "args": [script],
        "health_interval_s": 0.5,
        "reconnect_initial_s": 0.05,
        "reconnect_max_s": 0.5,
        **extra,
    }


def children() -> set[int]:
    """Live (not zombie) child processes of this process."""
    me = os.getpid()
    out = set()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == me and fields[0] != "Z":
            out.add(int(d.name))
    return out
