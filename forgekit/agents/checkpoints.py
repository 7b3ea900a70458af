"""Durable checkpoints for graphs and workflows: resume after a crash, fork at a step.

After every completed node or step, a graph or workflow appends one line to its run's
checkpoint log, ``<runs_dir>/<run_id>.checkpoints.jsonl``: the step's key (``"coder#2"``:
node and visit), the child run that did it, and that step's own output. Nothing else is
copied — the conversation and every call stay in the trajectory — so the log grows by
one step's output per step (linear in run length, never a snapshot of all state).

Resuming re-runs the orchestration from the top with the log of the interrupted run as
its memory: a step found there is *restored* (its output reused, no model or tool call
made, a ``graph_node``/``workflow_step`` note with ``status: restored`` recorded); the
first step not found runs for real. A human approval is a step that is logged only once
it is answered, so an approval pending at the crash is asked again, never assumed.

    answer = resume(run_id, gateway, runs_dir="runs")           # a new run, lineage recorded
    answer = fork(run_id, step=2, gateway=gw, solver=other)     # steps 0-1 reused, then fresh

Lines carry a schema version and plain JSON (no pickles), so a log written by one forgekit
is read by the next.
"""

from __future__ import annotations

import contextvars
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forgekit.core.component import build_component, config_of
from forgekit.core.context import ModelClient, RunContext
from forgekit.core.errors import ConfigError
from forgekit.core.samples import Answer, Sample

SCHEMA = 1
SUFFIX = ".checkpoints.jsonl"


@dataclass
class Entry:
    """One completed step."""

    index: int
    key: str
    child_run_id: str | None
    answer: Answer
    run_id: str  # the run whose log holds the line


@dataclass
class Lineage:
    """Where a new run continues from: `run_id`'s steps, all (`upto` None) or the first
    `upto` of them; `mode` is "resume" or "fork"."""

    run_id: str
    mode: str = "resume"
    upto: int | None = None


def checkpoint_path(runs_dir: str | Path, run_id: str) -> Path:
    return Path(runs_dir) / f"{run_id}{SUFFIX}"


def _answer_data(answer: Answer) -> dict[str, Any]:
    # the step's own output; the conversation stays in the trajectory (not copied here)
    data = answer.model_dump(mode="json", exclude={"messages"})
    if answer.data is not None and hasattr(answer.data, "model_dump"):
        data["data"] = answer.data.model_dump(mode="json")
    return data


class CheckpointLog:
    """The checkpoint log of one run (a file when the run is recorded, else in memory),
    with what it inherits from the runs it resumes or forks."""

    def __init__(self, run_id: str, path: Path | None = None,
                 inherited: list[Entry] | None = None) -> None:
        self.run_id = run_id
        self.path = path
        self.inherited = list(inherited or [])
        self.entries: list[Entry] = []
        self._used: set[int] = set()
        self._lock = threading.Lock()
        self._fd: int | None = None

    # -- writing -----------------------------------------------------------------------
    def header(self, *, solver: Any, sample: Sample, lineage: Lineage | None,
               model: str | None = None, workspace: Path | None = None) -> None:
        """The first line: the solver's config, the sample, the model and the workspace
        (once per run), and the lineage."""
        try:
            solver_config: dict[str, Any] | None = config_of(solver)
        except Exception:  # noqa: BLE001 - a solver without a config can still checkpoint
            solver_config = None
        self._write({
            "kind": "header", "schema": SCHEMA, "run_id": self.run_id,
            "solver": solver_config, "sample": sample.model_dump(mode="json"),
            "model": model, "workspace": str(workspace) if workspace else None,
            "lineage": None if lineage is None else vars(lineage),
        })

    def save(self, key: str, answer: Answer, child_run_id: str | None) -> Entry:
        with self._lock:
            index = len(self.inherited_used()) + len(self.entries)
            entry = Entry(index, key, child_run_id, answer, self.run_id)
            self.entries.append(entry)
        self._write({"kind": "step", "index": index, "key": key,
                     "child_run_id": child_run_id, "answer": _answer_data(answer)})
        return entry

    def _write(self, data: dict[str, Any]) -> None:
        if self.path is None:
            return
        line = (json.dumps(data, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        with self._lock:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.write(self._fd, line)  # one append per line: a crash loses no finished step

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    # -- reading -----------------------------------------------------------------------
    def restore(self, key: str) -> Entry | None:
        """The inherited entry for `key` not used yet (in order), else None."""
        with self._lock:
            for i, e in enumerate(self.inherited):
                if i not in self._used and e.key == key:
                    self._used.add(i)
                    return e
        return None

    def inherited_used(self) -> list[Entry]:
        return [e for i, e in enumerate(self.inherited) if i in self._used]

    @property
    def steps(self) -> list[Entry]:
        """Every step of this run in order: restored ones, then the ones run here."""
        return self.inherited_used() + self.entries


def read_log(path: str | Path) -> tuple[dict[str, Any], list[Entry]]:
    """A log's header and its own step entries. A torn last line (a crash mid-write) is
    ignored; any other bad line is an error naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no checkpoint log at {path}: was the run recorded (runs_dir)?")
    header: dict[str, Any] = {}
    entries: list[Entry] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines):
                break
            raise ConfigError("unreadable checkpoint line", file=path, line=n) from None
        if data.get("schema", SCHEMA) > SCHEMA:
            raise ConfigError(f"checkpoint schema {data['schema']} is newer than this "
                              f"forgekit's {SCHEMA}; upgrade forgekit", file=path, line=n)
        if data.get("kind") == "header":
            header = data
        elif data.get("kind") == "step":
            entries.append(Entry(data["index"], data["key"], data.get("child_run_id"),
                                 Answer.model_validate(data["answer"]), header.get("run_id", "")))
    return header, entries


def lineage_entries(runs_dir: str | Path, lineage: Lineage) -> list[Entry]:
    """The steps a run continuing from `lineage` inherits: the source run's own steps
    and, recursively, what *it* inherited (each log holds only its own lines)."""
    header, own = read_log(checkpoint_path(runs_dir, lineage.run_id))
    parent = header.get("lineage")
    before = lineage_entries(runs_dir, Lineage(**parent)) if parent else []
    # the parent's inherited steps that this run actually restored precede its own
    restored_count = min(own[0].index, len(before)) if own else len(before)
    chain = before[:restored_count] + own
    return chain if lineage.upto is None else chain[: lineage.upto]


# -- how a solve() finds its log -----------------------------------------------------------
_CONTINUE: contextvars.ContextVar[tuple[str, Lineage, str] | None] = contextvars.ContextVar(
    "forgekit_checkpoint_continue", default=None
)


def open_log(ctx: RunContext, solver: Any, sample: Sample,
             workspace: Path | None = None) -> CheckpointLog:
    """The checkpoint log of the run `ctx` records (a file beside its trajectory when the
    sink is a Recorder), inheriting from the run being resumed or forked, if any."""
    runs_dir = getattr(ctx.sink, "runs_dir", None)
    path = checkpoint_path(runs_dir, ctx.run_id) if runs_dir is not None else None
    pending = _CONTINUE.get()
    lineage = None
    inherited: list[Entry] = []
    if pending is not None and pending[0] == ctx.run_id:
        _, lineage, source_dir = pending
        inherited = lineage_entries(source_dir, lineage)
    log = CheckpointLog(ctx.run_id, path, inherited)
    log.header(solver=solver, sample=sample, lineage=lineage, model=ctx.model,
               workspace=workspace or ctx.workspace)
    return log


async def acontinue_run(
    run_id: str, gateway: ModelClient, *, runs_dir: str | Path, mode: str = "resume",
    step: int | None = None, solver: Any = None, model: str | None = None,
    workspace: str | Path | None = None, tags: dict[str, str] | None = None,
) -> tuple[Answer, str]:
    """Run `solver` (default: the one recorded in the log) again on the recorded sample,
    as a new recorded run continuing from `run_id`; returns the answer and the new run id."""
    from forgekit.trajectory import Recorder

    header, _ = read_log(checkpoint_path(runs_dir, run_id))
    if solver is None:
        if not header.get("solver"):
            raise ConfigError(f"run {run_id}'s solver has no config to rebuild it from; "
                              "pass solver=")
        solver = build_component(header["solver"], kind="solver", where="checkpoint.solver")
    sample = Sample.model_validate(header["sample"])
    model = model or header.get("model")
    if workspace is None and header.get("workspace"):
        workspace = header["workspace"]  # completed steps' files live there
    lineage = Lineage(run_id=run_id, mode=mode, upto=step)
    lineage_tags = {"resumed_from" if mode == "resume" else "forked_from": run_id}
    if step is not None:
        lineage_tags["fork_step"] = str(step)
    try:
        solver_config = config_of(solver)
    except Exception as e:  # noqa: BLE001 - a solver defined in a notebook cell
        solver_config = {"type": "unrecorded", "class": type(solver).__qualname__, "why": str(e)}
    rec = Recorder.start(
        runs_dir, solver=getattr(solver, "name", type(solver).__name__),
        config=solver_config, models=[model or ""],
        sample_id=sample.id, tags={**lineage_tags, **(tags or {})},
    )
    ctx = RunContext(gateway=gateway, sink=rec, sample=sample,
                     model=model,
                     workspace=Path(workspace) if workspace else None)
    token = _CONTINUE.set((rec.run_id, lineage, str(runs_dir)))
    try:
        answer = await solver.solve(sample, ctx)
    except BaseException as e:
        rec.finish(status="interrupted" if isinstance(e, KeyboardInterrupt) else "failed",
                   error=f"{type(e).__name__}: {e}")
        raise
    finally:
        _CONTINUE.reset(token)
    rec.finish(answer=answer)
    return answer, rec.run_id


def resume(run_id: str, gateway: ModelClient, *, runs_dir: str | Path, **kw: Any) -> tuple[Answer, str]:
    """Continue an interrupted (or finished) run from its last checkpoint, as a new run
    tagged ``resumed_from``. Returns (answer, new run id)."""
    from forgekit.core.sync import run_sync

    return run_sync(acontinue_run(run_id, gateway, runs_dir=runs_dir, mode="resume", **kw))


def fork(run_id: str, *, step: int, gateway: ModelClient, runs_dir: str | Path,
         **kw: Any) -> tuple[Answer, str]:
    """A new run that reuses the first `step` steps of `run_id` and runs the rest afresh
    (with `solver=` / `model=` to try another model or role), tagged ``forked_from`` and
    ``fork_step``. Returns (answer, new run id)."""
    from forgekit.core.sync import run_sync

    if step < 0:
        raise ValueError("step must be >= 0")
    return run_sync(acontinue_run(run_id, gateway, runs_dir=runs_dir, mode="fork",
                                  step=step, **kw))


# -- where two runs part ------------------------------------------------------------------
@dataclass
class Parting:
    """The first completed step where two runs differ (in key or output), with the diff of
    the two child runs that did it; `index` None when the runs agree step for step."""

    index: int | None
    left: Entry | None = None
    right: Entry | None = None
    child_diff: Any = None  # a forgekit.trajectory.TrajectoryDiff

    def summary(self) -> str:
        if self.index is None:
            return "the runs agree at every completed step"
        lk = self.left.key if self.left else "(none)"
        rk = self.right.key if self.right else "(none)"
        head = f"the runs part at step {self.index}: {lk} vs {rk}"
        return f"{head}\n{self.child_diff.summary()}" if self.child_diff is not None else head


def parting(left_run: str, right_run: str, *, runs_dir: str | Path) -> Parting:
    """Compare two runs (e.g. a run and its fork) step by step through their checkpoint
    logs; where they part, diff the two steps' child trajectories."""
    from itertools import zip_longest

    from forgekit.trajectory import Trajectory, diff

    a = lineage_entries(runs_dir, Lineage(left_run))
    b = lineage_entries(runs_dir, Lineage(right_run))
    for i, (x, y) in enumerate(zip_longest(a, b)):
        if x is None or y is None or x.key != y.key or x.answer.text != y.answer.text:
            child = None
            if x is not None and y is not None and x.child_run_id and y.child_run_id:
                child = diff(Trajectory.load(x.child_run_id, runs_dir),
                             Trajectory.load(y.child_run_id, runs_dir))
            return Parting(i, x, y, child)
    return Parting(None)
