"""`Checks`: review by running a command in the workspace (its tests, a linter) — passed
when it exits 0. A Solver, so a workflow records it as a turn like any reviewer.

    Workflow(..., reviewer=Checks("python -m pytest -q"))

The command runs in the OS sandbox (`forgekit.core.sandbox`) when forgekit has one, else
as a plain subprocess in its own process group, confined to the workspace folder as cwd,
with a timeout that kills the whole group.
"""

from __future__ import annotations

import shutil
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
    # a check runs code the model wrote: in the OS sandbox, under the project's `sandbox:`
    # settings (`sandbox: none` is the only way out, and doctor says so)
    from forgekit.core.config import project_sandbox_config
    from forgekit.core.sandbox import Sandbox

    r = await Sandbox(workspace, config=project_sandbox_config(),
                      env={"PYTHONDONTWRITEBYTECODE": "1"}).run(
        ["bash", "-c", command], timeout_s=timeout_s)
    out = r.output + (f"\n(timed out after {timeout_s:g}s)" if r.timed_out else "")
    return (None if r.timed_out else r.returncode), out
