"""`TrajectoryInspector`: a run's steps, expandable, with a cost/latency timeline, event
type filters and navigation into child runs.

Example:
    >>> from forgekit.notebook import TrajectoryInspector
    >>> TrajectoryInspector(".forgekit/runs/3f2a9c0d1e2b4a5c.jsonl")   # doctest: +SKIP
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from forgekit.core.events import ModelCall, NoteEvent, ScoreEvent, StepEvent, ToolCallEvent
from forgekit.notebook.live import LiveView

_MAX_TEXT = 20_000


def _clip(text: Any) -> str:
    if not isinstance(text, str):
        text = json.dumps(text, indent=1, ensure_ascii=False, default=str)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + f" … [{len(text)} chars]"


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


def event_item(e: Any) -> dict[str, Any]:
    """One event as the front end shows it: a title line and labelled sections."""
    sections: list[dict[str, str]] = []
    cost = latency = 0.0
    tokens = 0
    if isinstance(e, ModelCall):
        title = f"model {e.alias or e.model}" + (" (cached)" if e.cached else "")
        req = "\n\n".join(
            f"[{m.role}] {m.content or ''}"
            + (
                "\n" + json.dumps([t.model_dump(mode="json") for t in m.tool_calls], default=str)
                if m.tool_calls
                else ""
            )
            for m in e.messages
        )
        sections.append({"label": "request", "text": _clip(req)})
        resp = e.text or ""
        if e.tool_calls:
            resp += ("\n" if resp else "") + json.dumps(
                [t.model_dump(mode="json") for t in e.tool_calls], indent=1, default=str
            )
        sections.append({"label": "response", "text": _clip(resp)})
        if e.error:
            sections.append({"label": "error", "text": _clip(e.error)})
        cost, latency, tokens = e.cost_usd, e.latency_s, e.usage.total_tokens
    elif isinstance(e, ToolCallEvent):
        title = f"tool {e.name} [{e.decision}]" + (" error" if e.error else "")
        sections.append({"label": "arguments", "text": _clip(e.arguments)})
        if e.result is not None:
            sections.append({"label": "result", "text": _clip(e.result)})
        if e.error:
            sections.append({"label": "error", "text": _clip(e.error)})
        latency = e.duration_s
    elif isinstance(e, StepEvent):
        title = f"step {e.step}" + (f": {e.action}" if e.action else "")
        for label in ("thought", "action", "observation"):
            value = getattr(e, label)
            if value:
                sections.append({"label": label, "text": _clip(value)})
        cost, latency, tokens = e.cost_usd, e.latency_s, e.tokens
    elif isinstance(e, ScoreEvent):
        title = f"score {e.scorer} = {e.value}"
        for label in ("answer", "target", "explanation", "error"):
            value = getattr(e, label)
            if value is not None:
                sections.append({"label": label, "text": _clip(value)})
    elif isinstance(e, NoteEvent):
        title = f"note {e.kind}"
        sections.append({"label": "data", "text": _clip(e.data)})
    else:
        title = e.type
    return {
        "type": e.type,
        "seq": e.seq,
        "title": title,
        "sections": sections,
        "cost": cost,
        "latency": latency,
        "tokens": tokens,
    }


def trajectory_state(t: Any) -> dict[str, Any]:
    """The inspector's JSON state for one run."""
    steps = []
    for s in t.steps():
        items = [event_item(e) for e in s.events]
        latency = sum(i["latency"] for i in items if i["type"] == "model_call") or s.time_s
        steps.append(
            {
                "index": s.index,
                "label": s.label,
                "cost": s.cost_usd,
                "tokens": s.tokens,
                "latency": latency,
                "items": items,
            }
        )
    tot = t.totals()
    scores = [e for e in t.events if isinstance(e, ScoreEvent)]
    target = next((e.target for e in scores if e.target is not None), None)
    types = sorted({i["type"] for s in steps for i in s["items"]})
    return {
        "run": {
            "run_id": t.run_id,
            "solver": t.solver,
            "status": t.status,
            "models": list(t.start.models),
            "sample_id": t.start.sample_id,
            "answer": t.answer,
            "error": t.error,
            "scores": [{"scorer": e.scorer, "value": e.value} for e in scores],
            "target": None if target is None else _clip(target),
            "cost": tot["cost_usd"],
            "tokens": tot["total_tokens"],
            "duration": tot["duration_s"],
            "model_calls": tot["model_calls"],
            "tool_calls": tot["tool_calls"],
        },
        "steps": steps,
        "types": types,
        "children": [
            {
                "run_id": c.run_id,
                "solver": c.solver,
                "status": c.status,
                "cost": c.totals()["cost_usd"],
            }
            for c in t.children
        ],
    }


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
