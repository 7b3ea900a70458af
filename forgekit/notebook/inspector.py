"""`TrajectoryInspector`: a run's steps, expandable, with a cost/latency timeline, event
type filters and navigation into child runs.

Example:
    >>> from forgekit.notebook import TrajectoryInspector
    >>> TrajectoryInspector(".forgekit/runs/3f2a9c0d1e2b4a5c.jsonl")   # doctest: +SKIP
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from forgekit.notebook.live import LiveView
from forgekit.notebook.transcript import event_item, trajectory_state

__all__ = ["TrajectoryInspector", "as_trajectory", "event_item", "trajectory_state"]

def as_trajectory(source: Any, runs_dir: str | Path | None = None) -> Any:
    """A `forgekit.trajectory.Trajectory` from a Trajectory, a path or run id, a list of
    events, or a sink holding `.events` (e.g. a MemorySink)."""
    from forgekit.trajectory import Trajectory

    if isinstance(source, Trajectory):
        return source
    if isinstance(source, (str, Path)):
        return Trajectory.load(source, runs_dir)
    if isinstance(source, (list, tuple)):
        from forgekit.core.events import parse_event

        return Trajectory.from_events([e if hasattr(e, "type") else parse_event(e) for e in source])
    if hasattr(source, "events"):
        return Trajectory.from_sink(source)
    raise TypeError(
        f"cannot inspect {type(source).__name__}: pass a Trajectory, a run file "
        f"or id, a list of events, or a sink"
    )


class TrajectoryInspector(LiveView):
    """Inspect a recorded run (and its child runs) in a notebook.

    Args:
        source: a `Trajectory`, a run file or run id, a list of events, or a sink.
        runs_dir: where run ids are looked up (default: the project's runs dir).
    """

    widget_name = "inspector"

    def __init__(self, source: Any, runs_dir: str | Path | None = None) -> None:
        super().__init__()
        self.root = as_trajectory(source, runs_dir)
        self.stack = [self.root]  # root ... current

    @property
    def current(self) -> Any:
        return self.stack[-1]

    def open_child(self, run_id: str) -> None:
        """Show a child run of the current run."""
        for c in self.current.children:
            if c.run_id == run_id:
                self.stack.append(c)
                self.refresh(force=True)
                return
        raise KeyError(f"run {run_id!r} is not a child of {self.current.run_id!r}")

    def back(self, depth: int | None = None) -> None:
        """Go up one level, or to breadcrumb `depth` (0 = the root run)."""
        keep = len(self.stack) - 1 if depth is None else depth + 1
        self.stack = self.stack[: max(keep, 1)]
        self.refresh(force=True)

    def reload(self) -> None:
        """Re-read the run from its file (a run still being recorded shows its new
        steps); the view stays on the same child run when it still exists."""
        from forgekit.trajectory import Trajectory

        if self.root.path is None:
            return
        path = [t.run_id for t in self.stack[1:]]
        self.root = Trajectory.load(self.root.path)
        self.stack = [self.root]
        for run_id in path:
            nxt = next((c for c in self.stack[-1].children if c.run_id == run_id), None)
            if nxt is None:
                break
            self.stack.append(nxt)
        self.refresh(force=True)

    def handle(self, message: dict[str, Any]) -> None:
        action = message.get("action")
        if action == "open":
            self.open_child(str(message.get("run_id")))
        elif action == "reload":
            self.reload()
        elif action == "back":
            depth = message.get("depth")
            self.back(int(depth) if depth is not None else None)

    def state(self) -> dict[str, Any]:
        data = trajectory_state(self.current)
        data["breadcrumb"] = [{"run_id": t.run_id, "solver": t.solver} for t in self.stack]
        return data

    def html(self) -> str:
        t = self.current
        view = getattr(t, "_repr_html_", None)
        if callable(view):
            return f'<div class="fk-static-inspector">{view()}</div>'
        return f"<pre>{escape(repr(t))}</pre>"

    def __repr__(self) -> str:
        t = self.current
        return (
            f"TrajectoryInspector(run_id={t.run_id!r}, solver={t.solver!r}, "
            f"status={t.status!r}, steps={len(t.steps())})"
        )
