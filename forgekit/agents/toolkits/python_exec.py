"""The `python` bundle: run Python code in the OS sandbox (the workspace the only writable
folder), with a timeout and a memory limit (RLIMIT_DATA)."""

from __future__ import annotations

import sys

from forgekit.agents.toolkits.process import run_process
from forgekit.agents.tools import ToolEnv


async def run_python(code: str, timeout_s: float | None = None, *, env: ToolEnv) -> str:
    """Run Python code (a script, read from stdin) in the workspace; returns its output.
    Print what you want to see."""
    limit = float(env.options.get("timeout_s", 30))
    timeout = min(timeout_s or limit, limit)
    return await run_process(
        [sys.executable, "-I", "-"],
        env=env,
        timeout_s=timeout,
        stdin=code.encode("utf-8"),
        max_output=int(env.options.get("max_output", 8000)),
        memory_mb=int(env.options.get("memory_mb", 512)),
    )
