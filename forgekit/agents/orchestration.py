"""What graphs, workflows, handoff teams and planning loops share: one child run per
agent turn, restored from the checkpoint log when it already happened, and the sync edge.

A turn is `turn(ctx, log, key, solver, sample)`: if the log inherited an entry for `key`
(a resumed or forked run), its answer is reused and a note says so — no model or tool
call is made; otherwise the solver runs in a child run (``ctx.child``) and the answer is
checkpointed when it completes.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forgekit.agents.checkpoints import CheckpointLog, open_log
from forgekit.core.bus import EventBus
from forgekit.core.component import config_of
from forgekit.core.context import MemorySink, ModelClient, RunContext, Solver
from forgekit.core.events import NoteEvent, RunStart
from forgekit.core.hashing import stable_hash
from forgekit.core.samples import Answer, Sample
from forgekit.core.sync import run_sync


def safe_config(obj: Any) -> dict[str, Any]:
    """`obj`'s config, or a note of why it has none (a class defined in a notebook cell):
    the run is still recorded, only not rebuildable from its config."""
    try:
        return config_of(obj)
    except Exception as e:  # noqa: BLE001
        return {"type": "unrecorded", "class": type(obj).__qualname__, "why": str(e)}


def solver_name(solver: Any) -> str:
    return str(getattr(solver, "name", None) or type(solver).__name__)


def shared_workspace(ctx: RunContext) -> Path:
    """The run's workspace, made when the run has none (every turn must see the same
    files: a coder writes what a reviewer reads)."""
    if ctx.workspace is not None:
        ws = Path(ctx.workspace).resolve()
    else:
        ws = Path(tempfile.mkdtemp(prefix="forgekit-ws-")).resolve()
    ws.mkdir(parents=True, exist_ok=True)
    return ws


def write_sample_files(sample: Sample, workspace: Path) -> Sample:
    """Put the sample's files into the workspace once; the turns get a sample without them
    (an agent writes its sample's files on start, which would undo earlier turns' edits)."""
    for rel, content in sample.files.items():
        target = (workspace / rel).resolve()
        if workspace in target.parents:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
    return sample.model_copy(update={"files": {}})


class Turns:
    """The turns of one orchestrated run: its context, workspace and checkpoint log."""

    def __init__(self, ctx: RunContext, owner: Any, sample: Sample, *, note: str) -> None:
        self.workspace = shared_workspace(ctx)
        self.ctx = ctx if ctx.workspace == self.workspace else _with_workspace(ctx, self.workspace)
        self.sample = write_sample_files(sample, self.workspace)
        self.log: CheckpointLog = open_log(ctx, owner, sample, self.workspace)
        self.note = note
        self.owner = solver_name(owner)
        self.model_turns = 0  # turns that really ran (not restored)

    def emit(self, **data: Any) -> None:
        self.ctx.emit(NoteEvent(kind=self.note, data=data))

    async def turn(self, key: str, solver: Solver, sample: Sample, *,
                   label: str | None = None, tags: dict[str, str] | None = None) -> Answer:
        """One checkpointed turn (see the module docstring)."""
        entry = self.log.restore(key)
        if entry is not None:
            self.emit(key=key, status="restored", run_id=entry.child_run_id,
                      from_run=entry.run_id)
            return entry.answer
        name = label or solver_name(solver)
        cfg = safe_config(solver)
        sub = self.ctx.child(
            f"{self.owner}/{name}", config=cfg, config_hash=stable_hash(cfg),
            sample_id=sample.id, tags={"turn": key, **(tags or {})},
        )
        self.emit(key=key, status="running", run_id=sub.run_id)
        self.model_turns += 1
        try:
            answer = await solver.solve(sample, sub)
        except BaseException as e:
            interrupted = isinstance(e, (KeyboardInterrupt, asyncio.CancelledError))
            sub.end(status="interrupted" if interrupted else "failed",
                    error=f"{type(e).__name__}: {e}")
            self.emit(key=key, status="cancelled" if interrupted else "failed",
                      run_id=sub.run_id, error=f"{type(e).__name__}: {e}")
            raise
        sub.end(answer, stop_reason=answer.stop_reason)
        self.log.save(key, answer, sub.run_id)
        self.emit(key=key, status="done", run_id=sub.run_id)
        return answer

    def close(self) -> None:
        self.log.close()


def _with_workspace(ctx: RunContext, workspace: Path) -> RunContext:
    from dataclasses import replace

    return replace(ctx, workspace=workspace)


class Runnable:
    """The sync edge of an orchestration (a Solver): `run(task, gateway)`."""

    name: str = "orchestration"
    last_sink: Any = None

    if TYPE_CHECKING:  # each orchestration (a Solver) defines it

        async def solve(self, sample: Sample, ctx: RunContext) -> Answer: ...

    def run(self, task: str | Sample, gateway: ModelClient | None = None, *,
            workspace: str | Path | None = None, runs_dir: str | Path | None = None,
            model: str | None = None, bus: EventBus | None = None) -> Answer:
        """Run one task synchronously (works inside a running notebook loop). With
        `runs_dir`, the run is recorded there (and checkpointed beside it: see `resume`);
        else it is kept in memory (`trajectory()`). `bus`: an `EventBus` whose hooks see
        the run (``on_status`` gets the live graph / workflow state)."""
        return run_sync(self.arun(task, gateway, workspace=workspace, runs_dir=runs_dir,
                                  model=model, bus=bus))

    async def arun(self, task: str | Sample, gateway: ModelClient | None = None, *,
                   workspace: str | Path | None = None, runs_dir: str | Path | None = None,
                   model: str | None = None, bus: EventBus | None = None) -> Answer:
        owned = gateway is None
        if gateway is None:
            from forgekit.core.config import load_config
            from forgekit.models import Gateway

            gateway = Gateway(load_config())
        sample = task if isinstance(task, Sample) else Sample(id="task", input=task)
        cfg = safe_config(self)
        if runs_dir is not None:
            from forgekit.trajectory import Recorder

            sink: Any = Recorder.start(runs_dir, solver=self.name, config=cfg,
                                       models=[model or ""], sample_id=sample.id)
        else:
            sink = MemorySink()
            sink.emit(RunStart(solver=self.name, config=cfg, config_hash=stable_hash(cfg),
                               models=[model or ""], sample_id=sample.id))
        self.last_sink = sink
        ctx = RunContext(gateway=gateway, sink=sink, model=model, sample=sample,
                         workspace=Path(workspace) if workspace else None)
        if bus is not None:
            ctx.bus = bus
        try:
            answer = await self.solve(sample, ctx)
        except BaseException as e:
            interrupted = isinstance(e, (KeyboardInterrupt, asyncio.CancelledError))
            ctx.end(status="interrupted" if interrupted else "failed",
                    error=f"{type(e).__name__}: {e}")
            raise
        finally:
            if owned and hasattr(gateway, "close"):
                gateway.close()
        ctx.end(answer, stop_reason=answer.stop_reason)
        return answer

    @property
    def last_run_id(self) -> str | None:
        return getattr(self.last_sink, "run_id", None)

    def trajectory(self) -> Any:
        """The last run's trajectory, with a child run per turn."""
        from forgekit.trajectory import Trajectory

        if self.last_sink is None:
            raise ValueError(f"{self.name} has not run yet")
        path = getattr(self.last_sink, "path", None)
        return Trajectory.load(path) if path is not None else Trajectory.from_sink(self.last_sink)
