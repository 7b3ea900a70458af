"""Diff of two trajectories: the first event where they diverge, and steps side by side.

Timestamps, run ids, latencies, durations and package versions are ignored: two runs of the
same solver on the same sample (or a run and its replay) compare equal.

Example:
    >>> d = diff(Trajectory.load(a), Trajectory.load(b))   # doctest: +SKIP
    >>> d.same, d.index, print(d.text())                     # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from forgekit.core.events import Event
from forgekit.trajectory.reader import Step, Trajectory
from forgekit.trajectory.view import step_text

IGNORED = frozenset({"ts", "run_id", "parent_run_id", "latency_s", "duration_s", "versions"})


def normalized(event: Event) -> dict[str, Any]:
    """An event as data without the fields that differ between identical runs."""
    data = event.model_dump(mode="json", exclude=set(IGNORED))
    if data.get("type") == "note" and isinstance(data.get("data"), dict):
        data["data"] = {k: v for k, v in data["data"].items() if k != "run_id"}
    return data


def tree_events(t: Trajectory) -> list[tuple[int, Event]]:
    """Events of a run tree in a deterministic order: each run, then its children."""
    return [(depth, e) for depth, run in enumerate(t.walk()) for e in run.events]


@dataclass
class TrajectoryDiff:
    """Result of `diff`: `same`, the index of the first differing event (in the tree order
    of `tree_events`), both events there, and the fields that differ."""

    left: Trajectory
    right: Trajectory
    index: int | None
    left_event: Event | None = None
    right_event: Event | None = None
    fields: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return self.index is None

    def summary(self) -> str:
        if self.same:
            return "trajectories are identical (ignoring timestamps, ids and latencies)"
        le, re_ = self.left_event, self.right_event
        where = f"first difference at event #{self.index}"
        if le is None or re_ is None:
            longer = "left" if re_ is None else "right"
            ev = le if le is not None else re_
            what = f"{ev.type}, seq {ev.seq}" if ev is not None else "?"
            return f"{where}: only the {longer} run has it ({what})"
        return (
            f"{where} (left {le.type} seq {le.seq}, right {re_.type} seq {re_.seq}): "
            f"fields {', '.join(self.fields)} differ"
        )

    def rows(self) -> list[tuple[Step | None, Step | None, bool]]:
        """Steps side by side, with a flag for rows that differ."""
        out = []
        for a, b in zip_longest(self.left.steps(), self.right.steps()):
            ka = [normalized(e) for e in a.events] if a else None
            kb = [normalized(e) for e in b.events] if b else None
            out.append((a, b, ka != kb))
        return out

    def text(self, width: int = 48) -> str:
        """The summary and the steps side by side as plain text (`!` marks a difference)."""

        def cell(s: Step | None) -> str:
            if s is None:
                return ""
            return _one_line(f"{s.label}: {step_text(s)}", width)

        lines = [
            self.summary(),
            "",
            f"  {'#':>3} {self.left.run_id[:width]:<{width}} | {self.right.run_id[:width]}",
        ]
        for i, (a, b, differs) in enumerate(self.rows()):
            lines.append(f"{'!' if differs else ' '} {i:>3} {cell(a):<{width}} | {cell(b)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from forgekit.trajectory.view import diff_html

        return diff_html(self)

    def __repr__(self) -> str:
        return f"TrajectoryDiff({self.summary()})"


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def diff(left: Trajectory, right: Trajectory) -> TrajectoryDiff:
    """Compare two trajectories (with their children)."""
    a, b = tree_events(left), tree_events(right)
    for i, (x, y) in enumerate(zip_longest(a, b)):
        if x is None or y is None:
            return TrajectoryDiff(left, right, i, x[1] if x else None, y[1] if y else None)
        nx, ny = normalized(x[1]), normalized(y[1])
        if nx != ny or x[0] != y[0]:
            keys = sorted(k for k in set(nx) | set(ny) if nx.get(k) != ny.get(k))
            return TrajectoryDiff(left, right, i, x[1], y[1], keys or ["depth"])
    return TrajectoryDiff(left, right, None)
