"""Running a subprocess for a tool: confined cwd, timeout (whole process group killed),
optional memory and CPU limits, and output clipped to head and tail."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path


def clip(text: str, limit: int) -> str:
    """Keep the head and the tail of a long output, saying how much was dropped."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters elided] ...\n{text[-half:]}"


def _limits(memory_mb: int | None, cpu_s: int | None):  # runs in the child before exec
    def apply() -> None:
        import resource

        if memory_mb:
            b = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (b, b))
        if cpu_s:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))

    return apply


async def run_process(
    argv: list[str],
    *,
    cwd: Path,
    timeout_s: float,
    max_output: int,
    memory_mb: int | None = None,
    stdin: bytes | None = None,
) -> str:
    """Run `argv`; return 'exit code N' plus the clipped combined output."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not any(s in k.upper() for s in ("KEY", "TOKEN", "SECRET", "PASSWORD"))
    }
    env["PWD"] = str(cwd)
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        env=env,
        start_new_session=True,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        preexec_fn=_limits(memory_mb, int(timeout_s) + 1 if memory_mb else None),
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(stdin), timeout_s)
    except TimeoutError:
        _kill_group(proc.pid)
        await proc.wait()
        return f"timed out after {timeout_s:g}s (process killed)"
    except asyncio.CancelledError:  # the agent's deadline passed or the run was stopped
        _kill_group(proc.pid)
        await proc.wait()  # reap it while the loop runs
        raise
    text = clip(out.decode("utf-8", "replace"), max_output)
    return f"exit code {proc.returncode}\n{text}" if text else f"exit code {proc.returncode}"


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
