"""`Checks`: review by running a command in the workspace (its tests, a linter) — passed
when it exits 0. A Solver, so a workflow records it as a turn like any reviewer.

    Workflow(..., reviewer=Checks("python -m pytest -q"))

The command runs in the OS sandbox (`forgekit.core.sandbox`) when forgekit has one, else
as a plain subprocess in its own process group, confined to the workspace folder as cwd,
with a timeout that kills the whole group.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from pathlib import Path

from forgekit.agents.plans import Review
from forgekit.core.component import Component
from forgekit.core.context import RunContext
from forgekit.core.events import ToolCallEvent
from forgekit.core.samples import Answer, Sample


class Checks(Component, type="checks", kind="solver"):
    """Run `command` (a bash command line) in the run's workspace; the answer's `data` is
    a `Review` (passed = exit code 0, feedback = the output's tail)."""

    def __init__(self, command: str, *, timeout_s: float = 120.0, max_output: int = 4000,
                 name: str = "checks") -> None:
        self.command = command
        self.timeout_s = timeout_s
        self.max_output = max_output
        self.name = name

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        workspace = Path(ctx.workspace or ".").resolve()
        t0 = time.monotonic()
        code, output = await run_check(self.command, workspace, self.timeout_s)
        output = output[-self.max_output:]
        passed = code == 0
        ctx.emit(ToolCallEvent(
            call_id="check", name="check", arguments={"command": self.command},
            result=f"exit code {code}\n{output}", error=None if passed else f"exit code {code}",
            decision="n/a", duration_s=time.monotonic() - t0,
        ))
        verdict = Review(passed=passed, feedback="" if passed else
                         f"`{self.command}` failed (exit code {code}):\n{output}")
        return Answer(text=verdict.model_dump_json(), data=verdict,
                      stop_reason=f"checks: exit code {code}")


def _drop_bytecode(workspace: Path) -> None:
    # a file rewritten within the same second at the same size (a one-character fix) keeps
    # its stale .pyc valid for Python's mtime+size check: the review would test old code
    for cache in workspace.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


async def run_check(command: str, workspace: Path, timeout_s: float) -> tuple[int | None, str]:
    """(exit code or None on timeout, combined output) of `bash -c command` in `workspace`,
    without Python bytecode caches (see `_drop_bytecode`)."""
    _drop_bytecode(workspace)
    try:
        from forgekit.core.sandbox import Sandbox  # the OS sandbox, when this forgekit has it
    except ImportError:
        Sandbox = None  # noqa: N806
    if Sandbox is not None:
        r = await Sandbox(workspace, env={"PYTHONDONTWRITEBYTECODE": "1"}).run(
            ["bash", "-c", command], timeout_s=timeout_s)
        out = r.output + (f"\n(timed out after {timeout_s:g}s)" if r.timed_out else "")
        return (None if r.timed_out else r.returncode), out
    env = {k: v for k, v in os.environ.items()
           if not any(s in k.upper() for s in ("KEY", "TOKEN", "SECRET", "PASSWORD"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", command, cwd=str(workspace), env=env, start_new_session=True,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except (TimeoutError, asyncio.CancelledError) as e:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        await proc.wait()
        if isinstance(e, asyncio.CancelledError):
            raise
        return None, f"timed out after {timeout_s:g}s (process group killed)"
    return proc.returncode, out.decode("utf-8", "replace")
