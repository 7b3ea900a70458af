"""Runs as the tracking layer sees them: RunStart + events + RunEnd, children attached.

Accepts whatever the caller holds: a `forgekit.trajectory.Trajectory` (anything with
`.start`, `.events`, `.end`, `.children`, `.path`), a list of `forgekit.core.events`
objects (several runs linked by `parent_run_id`), or the path of a trajectory JSONL file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forgekit.core.events import Event, RunEnd, RunStart


@dataclass
class RunRecord:
    """One forgekit run: its start, the events in between, its end (None if it never
    ended), its child runs, and the JSONL file it was read from (if any)."""

    start: RunStart
    events: list[Event] = field(default_factory=list)
    end: RunEnd | None = None
    children: list[RunRecord] = field(default_factory=list)
    path: Path | None = None
    truncated: bool = False

    @property
    def run_id(self) -> str:
        return self.start.run_id

    @property
    def parent_run_id(self) -> str | None:
        return self.start.parent_run_id

    @property
    def status(self) -> str:
        return self.end.status if self.end is not None else "interrupted"

    @property
    def end_ts(self) -> float:
        if self.end is not None:
            return self.end.ts
        stamps = [e.ts for e in self.events] + [c.end_ts for c in self.children]
        return max([self.start.ts, *stamps])

    def walk(self) -> Iterable[RunRecord]:
        """This run and all its descendants, parents first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def all_events(self) -> list[Event]:
        return [self.start, *self.events, *([self.end] if self.end else [])]


def _from_events(
    events: list[Event], path: Path | None = None, truncated: bool = False
) -> RunRecord:
    if not events or not isinstance(events[0], RunStart):
        raise ValueError(f"{path or 'events'}: a trajectory starts with a run_start event")
    start = events[0]
    end = events[-1] if isinstance(events[-1], RunEnd) else None
    body = [e for e in events[1:] if not isinstance(e, (RunStart, RunEnd))]
    return RunRecord(start=start, events=body, end=end, path=path, truncated=truncated)


def read_jsonl(path: str | Path) -> RunRecord:
    """Read one trajectory file (the trajectory layer's format: events, message blobs and
    request deltas). A truncated last line is dropped and the record marked `truncated`.

    Raises:
        ValueError: the file is not a trajectory.
    """
    from forgekit.core.errors import ForgekitError
    from forgekit.trajectory import Trajectory

    try:
        traj = Trajectory.load(Path(path), children=False)
    except ForgekitError as e:
        raise ValueError(str(e)) from e
    return _from_trajectory(traj)


def to_jsonl(rec: RunRecord) -> str:
    """A run's events as the text of a trajectory file (what the recorder writes)."""
    from forgekit.trajectory.format import LineEncoder

    encoder = LineEncoder()
    return "".join(encoder.encode(e) for e in rec.all_events())


def first_event(path: Path) -> dict[str, Any] | None:
    """The first line of a JSONL file as a dict, or None when it is not a run_start."""
    try:
        with path.open(encoding="utf-8") as f:
            data = json.loads(f.readline())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("type") == "run_start" else None


def link(records: list[RunRecord]) -> list[RunRecord]:
    """Attach children to parents by `parent_run_id`; return the roots (runs whose parent
    is not among `records`), children ordered by start time."""
    by_id = {r.run_id: r for r in records}
    roots = []
    for r in records:
        parent = by_id.get(r.parent_run_id or "")
        if parent is not None and parent is not r:
            if all(c is not r for c in parent.children):
                parent.children.append(r)
        else:
            roots.append(r)
    for r in records:
        r.children.sort(key=lambda c: c.start.ts)
    return roots


def _child_files(folder: Path) -> dict[str, list[Path]]:
    """parent run id -> the trajectory files in `folder` of its child runs."""
    out: dict[str, list[Path]] = {}
    for p in folder.glob("*.jsonl"):
        first = first_event(p)
        if first and first.get("parent_run_id"):
            out.setdefault(first["parent_run_id"], []).append(p)
    return out


def _with_children_from_dir(
    root: RunRecord, index: dict[Path, dict[str, list[Path]]] | None = None
) -> RunRecord:
    """Find the child runs of a run read from a file: files in the same folder whose
    run_start names it as parent (recursively). `index` caches each folder's scan."""
    if root.path is None:
        return root
    index = {} if index is None else index
    folder = root.path.parent
    if folder not in index:
        index[folder] = _child_files(folder)
    candidates = index[folder]
    if not candidates:
        return root

    def attach(rec: RunRecord) -> None:
        for p in candidates.get(rec.run_id, []):
            child = read_jsonl(p)
            if all(c.run_id != child.run_id for c in rec.children):
                rec.children.append(child)
            attach(child)
        rec.children.sort(key=lambda c: c.start.ts)

    attach(root)
    return root


def _from_trajectory(obj: Any) -> RunRecord:
    events = [e for e in obj.events if not isinstance(e, (RunStart, RunEnd))]
    path = getattr(obj, "path", None)
    rec = RunRecord(
        start=obj.start,
        events=events,
        end=getattr(obj, "end", None),
        path=Path(path) if path else None,
        truncated=bool(getattr(obj, "truncated", False)),
    )
    rec.children = [_from_trajectory(c) for c in (getattr(obj, "children", None) or [])]
    return rec


def as_records(
    value: Any, _index: dict[Path, dict[str, list[Path]]] | None = None
) -> list[RunRecord]:
    """Normalise a Trajectory, a path, a RunRecord, a list of events, or a list of any of
    these into root RunRecords with their children attached.

    Raises:
        ValueError: the value holds no run (no run_start event).
    """
    if isinstance(value, RunRecord):
        return [value]
    if isinstance(value, (str, Path)):
        return [_with_children_from_dir(read_jsonl(value), _index)]
    if hasattr(value, "start") and hasattr(value, "events"):
        return [_from_trajectory(value)]
    items = list(value)
    if items and all(
        hasattr(e, "type") and hasattr(e, "run_id") and hasattr(e, "seq") for e in items
    ):
        groups: dict[str, list[Event]] = {}
        for e in items:
            groups.setdefault(e.run_id, []).append(e)
        return link([_from_events(sorted(g, key=lambda e: e.seq)) for g in groups.values()])
    out: list[RunRecord] = []
    index: dict[Path, dict[str, list[Path]]] = {} if _index is None else _index
    for item in items:
        out.extend(as_records(item, index))
    if not out:
        raise ValueError("no run to log: expected a trajectory, a path or run events")
    # a child listed beside its parent is logged under the parent only, once
    nested = {r.run_id for root in out for r in list(root.walk())[1:]}
    seen: set[str] = set()
    roots = []
    for r in out:
        if r.run_id not in nested and r.run_id not in seen:
            seen.add(r.run_id)
            roots.append(r)
    return roots


def scan_runs_dir(runs_dir: str | Path) -> tuple[list[RunRecord], list[str]]:
    """Every trajectory file under `runs_dir` (recursively), linked into trees.

    Returns:
        (roots, problems): problems names each file that could not be read.
    """
    records, problems = [], []
    for p in sorted(Path(runs_dir).rglob("*.jsonl")):
        if first_event(p) is None:
            continue
        try:
            records.append(read_jsonl(p))
        except (OSError, ValueError) as e:
            problems.append(f"{p}: {e}")
    return link(records), problems
