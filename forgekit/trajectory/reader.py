"""`Trajectory`: one recorded run read back from its file, with its children.

Example:
    >>> t = Trajectory.load("3f2a9c0d1e2b4a5c", runs_dir=".forgekit/runs")  # doctest: +SKIP
    >>> t.status, t.answer, t.totals()["cost_usd"]                          # doctest: +SKIP
    >>> t   # renders as a step list in a notebook                          # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forgekit.core.display import LiveDisplay
from forgekit.core.errors import ForgekitError
from forgekit.core.events import (
    Event,
    ModelCall,
    NoteEvent,
    RunEnd,
    RunStart,
    ScoreEvent,
    StepEvent,
    ToolCallEvent,
)
from forgekit.core.totals import RunTotals
from forgekit.trajectory.format import read_raw, to_event
from forgekit.trajectory.recorder import CHILD_NOTE
from forgekit.trajectory.tree import child_paths, first_line, link, start_ts

if TYPE_CHECKING:
    from forgekit.core.context import MemorySink


def default_runs_dir() -> Path:
    """The project's runs directory (`runs_dir` in forgekit.yaml, default `.forgekit/runs`)."""
    from forgekit.core.config import load_config

    cfg = load_config()
    return cfg.path(cfg.runs_dir)


def project_runs_dirs() -> list[Path]:
    """Every folder of the project's store that holds trajectories: `runs_dir` (default
    `.forgekit/runs`) and each evaluation's `.forgekit/evals/<eval id>/runs`; only those
    that exist."""
    from forgekit.core.config import load_config

    cfg = load_config()
    main = cfg.path(cfg.runs_dir)
    evals = sorted(p for p in (cfg.root / ".forgekit" / "evals").glob("*/runs") if p.is_dir())
    return [d for d in [main, *evals] if d.is_dir()]


def run_path(path_or_run_id: str | Path, runs_dir: str | Path | None = None) -> Path:
    """The file of a run given its path or its id (without `runs_dir`: looked up in
    every run folder of the project, see `project_runs_dirs`)."""
    p = Path(path_or_run_id)
    if p.suffix == ".jsonl" or p.exists():
        if not p.exists():
            raise ForgekitError(f"no trajectory file {p}")
        return p
    base = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    p = base / f"{path_or_run_id}.jsonl"
    if not p.exists() and runs_dir is None:
        for d in project_runs_dirs():
            if (d / f"{path_or_run_id}.jsonl").exists():
                return d / f"{path_or_run_id}.jsonl"
    if not p.exists():
        raise ForgekitError(f"no run {path_or_run_id!r} in {base} (looked for {p})")
    return p


@dataclass
class Step:
    """One row of a run's step list: the events of one agent step (or one lone call)."""

    index: int
    events: list[Event] = field(default_factory=list)
    cost_usd: float = 0.0
    tokens: int = 0
    time_s: float = 0.0
    label: str = ""


@dataclass
class Trajectory(LiveDisplay):
    """A recorded run: `start` (RunStart), `events` (all, in order, including start and end),
    `end` (RunEnd, or None when the run was interrupted), `children` (nested runs),
    `path` (its file) and `warnings` (what the reader had to skip)."""

    start: RunStart
    events: list[Event]
    end: RunEnd | None
    path: Path | None = None
    children: list[Trajectory] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    truncated: bool = False

    # -- loading -----------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path_or_run_id: str | Path,
        runs_dir: str | Path | None = None,
        *,
        children: bool = True,
    ) -> Trajectory:
        """Read a run from its file (by path, or by id in `runs_dir`), with its children
        (the runs in its folder whose RunStart names it as parent, see
        `forgekit.trajectory.tree`).

        A truncated last line is skipped and reported in `warnings`; a run without
        `RunEnd` has `status == "interrupted"`.
        """
        path = run_path(path_or_run_id, runs_dir)
        raw = read_raw(path)
        events: list[Event] = []
        warnings = list(raw.warnings)
        for obj in raw.events:
            try:
                events.append(to_event(raw, obj))
            except ValueError as e:
                warnings.append(
                    f"{path}: event seq={obj.get('seq')} type={obj.get('type')} "
                    f"skipped: {str(e).splitlines()[0]}"
                )
        warnings.extend(w for w in raw.warnings if w not in warnings)
        if not events or not isinstance(events[0], RunStart):
            raise ForgekitError(f"{path}: not a trajectory (first event is not run_start)")
        end = events[-1] if isinstance(events[-1], RunEnd) else None
        traj = cls(
            start=events[0],
            events=events,
            end=end,
            path=path,
            warnings=warnings,
            truncated=raw.truncated,
        )
        if children:
            traj._load_children({traj.run_id})
        return traj

    def _load_children(self, seen: set[str]) -> None:
        """Children by the one rule of `forgekit.trajectory.tree`: the runs in this run's
        folder whose RunStart names it as parent (recursively). A `child_run` note naming
        a run that is not there is reported in `warnings`."""
        assert self.path is not None
        found: set[str] = set()
        for p in child_paths(self.path.parent, self.run_id):
            try:
                child = Trajectory.load(p, children=False)
            except ForgekitError as e:
                self.warnings.append(f"child run {p.stem}: {e}")
                continue
            if child.run_id in seen or child.run_id in found:
                continue  # a cycle or a copy: each run appears once in the tree
            found.add(child.run_id)
            child._load_children(seen | {child.run_id})
            self.children.append(child)
        self.children.sort(key=start_ts)
        for ev in self.events:
            if isinstance(ev, NoteEvent) and ev.kind == CHILD_NOTE:
                cid = ev.data.get("run_id")
                if cid not in found:
                    self.warnings.append(
                        f"child run {cid}: no run file in {self.path.parent} names "
                        f"{self.run_id} as its parent"
                    )

    @classmethod
    def load_folder(cls, runs_dir: str | Path) -> tuple[list[Trajectory], list[str]]:
        """Every run file under `runs_dir` (recursively), linked into trees by the same
        rule as `load` (children: the runs in the parent's folder whose RunStart names it).

        Returns:
            (roots, problems): problems names each file that could not be read.
        """
        folders: dict[Path, list[Trajectory]] = {}
        problems = []
        for p in sorted(Path(runs_dir).rglob("*.jsonl")):
            if first_line(p) is None:
                continue
            try:
                folders.setdefault(p.parent, []).append(cls.load(p, children=False))
            except (OSError, ForgekitError) as e:
                problems.append(f"{p}: {e}")
        return [root for runs in folders.values() for root in link(runs)], problems

    @classmethod
    def from_events(
        cls, events: list[Event], children: list[Trajectory] | None = None
    ) -> Trajectory:
        """A trajectory from events in memory (e.g. a `MemorySink`'s)."""
        start = events[0]
        if not isinstance(start, RunStart):
            start = RunStart(run_id=events[0].run_id)
            events = [start, *events]
        end = events[-1] if isinstance(events[-1], RunEnd) else None
        return cls(start=start, events=list(events), end=end, children=list(children or []))

    @classmethod
    def from_sink(cls, sink: MemorySink) -> Trajectory:
        """A trajectory from a `MemorySink` (children included)."""
        return cls.from_events(
            list(sink.events), [cls.from_sink(c) for c in getattr(sink, "children", [])]
        )

    # -- what happened ----------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.start.run_id

    @property
    def parent_run_id(self) -> str | None:
        return self.start.parent_run_id

    @property
    def solver(self) -> str:
        return self.start.solver

    @property
    def status(self) -> str:
        """completed / failed / budget-exceeded / interrupted (no RunEnd in the file)."""
        return self.end.status if self.end is not None else "interrupted"

    @property
    def answer(self) -> str | None:
        return self.end.answer if self.end is not None else None

    @property
    def error(self) -> str | None:
        return self.end.error if self.end is not None else None

    @property
    def body(self) -> list[Event]:
        """The events between the RunStart and the RunEnd (`events` holds both ends)."""
        return [e for e in self.events if not isinstance(e, (RunStart, RunEnd))]

    @property
    def end_ts(self) -> float:
        """When the run ended: its RunEnd's time, or (interrupted) the latest event of the
        run and its descendants."""
        if self.end is not None:
            return self.end.ts
        stamps = [e.ts for e in self.events] + [c.end_ts for c in self.children]
        return max([self.start.ts, *stamps])

    def of_type(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def model_calls(self) -> list[ModelCall]:
        return self.of_type(ModelCall)

    @property
    def tool_calls(self) -> list[ToolCallEvent]:
        return self.of_type(ToolCallEvent)

    @property
    def scores(self) -> list[ScoreEvent]:
        return self.of_type(ScoreEvent)

    def walk(self) -> list[Trajectory]:
        """This run and all its descendants, depth first."""
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out

    def all_events(self) -> list[Event]:
        """Events of the whole tree, in time order (ties: parent before child)."""
        tagged = [
            (e.ts, depth, i, e)
            for depth, t in enumerate(self.walk())
            for i, e in enumerate(t.events)
        ]
        return [e for *_, e in sorted(tagged, key=lambda x: x[:3])]

    def run_totals(self, *, children: bool = True) -> RunTotals:
        """Calls, tokens, cost, model time and errors counted from the events, over the
        whole tree unless `children=False`; `duration_s` is the run's own (its `RunEnd`,
        else its first to last event)."""
        out = RunTotals()
        for t in self.walk() if children else [self]:
            for e in t.events:
                out.add(e)
        out.duration_s = (
            self.end.duration_s if self.end is not None else self.events[-1].ts - self.start.ts
        )
        return out

    def totals(self, *, children: bool = True) -> dict[str, Any]:
        """`run_totals()` as a dict: cost_usd, input/output/total tokens, latency_s (sum
        over model calls), duration_s, model_calls, tool_calls, steps, errors (failed
        model calls); over the whole tree unless `children=False`."""
        return self.run_totals(children=children).to_dict()

    def steps(self) -> list[Step]:
        """The run as a step list: events up to and including each `step` event form one
        step; without step events, each model or tool call is its own row."""
        body = self.body
        has_steps = any(isinstance(e, StepEvent) for e in body)
        groups: list[list[Event]] = []
        cur: list[Event] = []
        for e in body:
            cur.append(e)
            if isinstance(e, StepEvent) or (not has_steps and not isinstance(e, NoteEvent)):
                groups.append(cur)
                cur = []
        if cur:
            groups.append(cur)
        out: list[Step] = []
        prev_ts = self.start.ts
        for i, g in enumerate(groups):
            calls = [e for e in g if isinstance(e, ModelCall)]
            step_ev = next((e for e in g if isinstance(e, StepEvent)), None)
            cost = sum(c.cost_usd for c in calls) or (step_ev.cost_usd if step_ev else 0.0)
            tokens = sum(c.usage.total_tokens for c in calls) or (step_ev.tokens if step_ev else 0)
            out.append(
                Step(
                    index=i,
                    events=g,
                    cost_usd=cost,
                    tokens=tokens,
                    time_s=max(0.0, g[-1].ts - prev_ts),
                    label=_label(g),
                )
            )
            prev_ts = g[-1].ts
        return out

    def tree(self, indent: str = "") -> str:
        """The run tree as indented text: id, solver, status, cost."""
        t = self.totals(children=False)
        line = (
            f"{indent}{self.run_id} {self.solver or '-'} [{self.status}] "
            f"calls={t['model_calls']} cost=${t['cost_usd']:.6f}"
        )
        return "\n".join([line, *(c.tree(indent + "  ") for c in self.children)])

    # -- views ------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        from forgekit.trajectory.view import trajectory_html

        return trajectory_html(self)

    def __repr__(self) -> str:
        return (
            f"Trajectory(run_id={self.run_id!r}, solver={self.solver!r}, "
            f"status={self.status!r}, events={len(self.events)}, "
            f"children={len(self.children)})"
        )


def _label(events: list[Event]) -> str:
    for e in events:
        if isinstance(e, StepEvent):
            return e.action or e.thought or f"step {e.step}"
    for e in events:
        if isinstance(e, ModelCall):
            return f"model {e.alias or e.model}"
        if isinstance(e, ToolCallEvent):
            return f"tool {e.name}"
        if isinstance(e, ScoreEvent):
            return f"score {e.scorer}"
        if isinstance(e, NoteEvent) and e.kind == CHILD_NOTE:
            return f"child run {e.data.get('solver', '')}"
    return events[0].type if events else ""
