"""Static HTML views of trajectories, stores and diffs (they survive papermill and nbval).

A run renders as a step list with cost, tokens and time per step; each model call's
request and response, and each tool call's arguments and result, sit in `<details>`.
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any

from forgekit.core.events import (
    Event,
    ModelCall,
    NoteEvent,
    ScoreEvent,
    StepEvent,
    ToolCallEvent,
)

if TYPE_CHECKING:
    from forgekit.trajectory.diff import TrajectoryDiff
    from forgekit.trajectory.reader import Step, Trajectory
    from forgekit.trajectory.store import TrajectoryStore

def step_text(s: Step) -> str:
    """The one line that says what a step did: its observation/action/thought, else its
    model reply or tool result (used by diffs and their views)."""
    for e in s.events:
        if isinstance(e, StepEvent):
            return e.observation or e.action or e.thought or ""
    for e in s.events:
        if isinstance(e, ModelCall):
            return e.error or e.text or ", ".join(t.name for t in e.tool_calls)
        if isinstance(e, ToolCallEvent):
            return e.error or e.result or ""
    return ""


_STYLE = (
    "<style>.fk-traj table{border-collapse:collapse;font-size:12px}"
    ".fk-traj td,.fk-traj th{border:1px solid #ddd;padding:2px 6px;vertical-align:top;"
    "text-align:left}.fk-traj pre{white-space:pre-wrap;margin:2px 0;max-width:900px}"
    ".fk-diff{background:#fff3cd}</style>"
)
_STATUS = {
    "completed": "#2e7d32",
    "failed": "#c62828",
    "budget-exceeded": "#ef6c00",
    "interrupted": "#6d4c41",
    "running": "#1565c0",
}


def _pre(value: Any) -> str:
    if not isinstance(value, str):
        value = json.dumps(value, indent=1, ensure_ascii=False, default=str)
    return f"<pre>{escape(value)}</pre>"


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + f" … [{len(text)} chars]"


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{escape(summary)}</summary>{body}</details>"


def event_html(e: Event, previous: ModelCall | None = None) -> str:
    """One event: a line of summary, with its payload folded. A model call whose request
    extends `previous` (an agent loop) shows only the messages added since, so a long
    run's HTML grows linearly."""
    if isinstance(e, ModelCall):
        req = [m.model_dump(mode="json", exclude_none=True) for m in e.messages]
        known = 0
        if previous is not None and 0 < len(previous.messages) <= len(e.messages):
            if e.messages[: len(previous.messages)] == previous.messages:
                known = len(previous.messages)
        head = (
            f"model {e.alias or e.model}: {e.usage.input_tokens}+{e.usage.output_tokens} tok, "
            f"${e.cost_usd:.6f}, {e.latency_s:.2f}s" + (" (cached)" if e.cached else "")
        )
        resp: dict[str, Any] = {"text": e.text}
        if e.tool_calls:
            resp["tool_calls"] = [t.model_dump(mode="json") for t in e.tool_calls]
        if e.error:
            resp["error"] = e.error
        return (
            f"<div>{escape(head)}"
            + _details(
                f"request ({len(req)} messages"
                + (
                    f"; the first {known} as in call seq {previous.seq}, new ones shown)"
                    if known and previous is not None
                    else ")"
                ),
                _pre({"messages": req[known:], "tools": e.tools, "params": e.params}),
            )
            + _details("response", _pre(resp))
            + "</div>"
        )
    if isinstance(e, ToolCallEvent):
        head = f"tool {e.name} [{e.decision}] {e.duration_s:.2f}s" + (" error" if e.error else "")
        return (
            f"<div>{escape(head)}"
            + _details(
                "arguments / result",
                _pre({"arguments": e.arguments, "result": e.result, "error": e.error}),
            )
            + "</div>"
        )
    if isinstance(e, StepEvent):
        parts = [
            f"<b>{k}</b>: {escape(v)}"
            for k, v in [
                ("thought", e.thought),
                ("action", e.action),
                ("observation", e.observation),
            ]
            if v
        ]
        return "<div>" + "<br>".join(parts) + "</div>"
    if isinstance(e, ScoreEvent):
        why = e.error or e.explanation
        return (
            f"<div>score {escape(e.scorer)} = {escape(str(e.value))}"
            + (f" — {escape(str(why))}" if why else "")
            + "</div>"
        )
    if isinstance(e, NoteEvent):
        return f"<div>note {escape(e.kind)} {escape(json.dumps(e.data, default=str))}</div>"
    return f"<div>{escape(e.type)}</div>"


def trajectory_html(t: Trajectory, *, depth: int = 0) -> str:
    """A run as an HTML step list (children folded below it)."""
    tot = t.totals()
    color = _STATUS.get(t.status, "#333")
    head = (
        f"<div><b>{escape(t.solver or 'run')}</b> <code>{escape(t.run_id)}</code> "
        f"<span style='color:{color}'>{escape(t.status)}</span> · "
        f"{tot['model_calls']} model calls · {tot['tool_calls']} tool calls · "
        f"{tot['total_tokens']} tokens · ${tot['cost_usd']:.6f} · "
        f"{tot['duration_s']:.2f}s</div>"
    )
    scores = [e for e in t.events if isinstance(e, ScoreEvent)]
    if scores:  # the header says how the run scored, against what
        target = next((e.target for e in scores if e.target is not None), None)
        head += (
            "<div>score: "
            + ", ".join(f"{escape(e.scorer)} = {escape(str(e.value))}" for e in scores)
            + (f" · target: {escape(_short(target))}" if target is not None else "")
            + "</div>"
        )
    rows = []
    previous: ModelCall | None = None
    for s in t.steps():
        parts = []
        for e in s.events:
            parts.append(event_html(e, previous))
            if isinstance(e, ModelCall):
                previous = e
        body = "".join(parts)
        rows.append(
            f"<tr><td>{s.index}</td><td>{escape(s.label)}</td><td>{body}</td>"
            f"<td>${s.cost_usd:.6f}</td><td>{s.tokens}</td><td>{s.time_s:.2f}s</td></tr>"
        )
    table = (
        "<table><tr><th>#</th><th>step</th><th>events</th><th>cost</th><th>tokens</th>"
        "<th>time</th></tr>" + "".join(rows) + "</table>"
    )
    extra = ""
    if t.answer is not None or t.error:
        extra += _details(
            "answer" if not t.error else "answer / error",
            _pre({"answer": t.answer, "error": t.error}),
        )
    if t.warnings:
        extra += (
            "<div style='color:#c62828'>" + "<br>".join(escape(w) for w in t.warnings) + "</div>"
        )
    kids = "".join(
        _details(
            f"child run {c.solver} {c.run_id} [{c.status}]", trajectory_html(c, depth=depth + 1)
        )
        for c in t.children
    )
    inner = head + table + extra + kids
    return inner if depth else f"<div class='fk-traj'>{_STYLE}{inner}</div>"


# the columns a run listing shows (the CLI's `runs list` uses them too)
RUN_SUMMARY_COLUMNS = [
    "run_id",
    "solver",
    "model",
    "sample_id",
    "status",
    "steps",
    "model_calls",
    "total_tokens",
    "cost_usd",
    "duration_s",
]
_RUN_COLS = [*RUN_SUMMARY_COLUMNS, "parent_run_id"]


def store_html(store: TrajectoryStore, limit: int = 50) -> str:
    """A store as a table of its newest runs."""
    df = store.runs(limit=limit)
    total = store.query("select count(*) as n from runs")["n"][0]
    rows = []
    for r in df.select(_RUN_COLS).iter_rows(named=True):
        cells = []
        for c in _RUN_COLS:
            v = r[c]
            if c == "cost_usd" and v is not None:
                v = f"${v:.6f}"
            elif c == "duration_s" and v is not None:
                v = f"{v:.2f}s"
            style = f" style='color:{_STATUS.get(v, '#333')}'" if c == "status" else ""
            cells.append(f"<td{style}>{escape('' if v is None else str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{c}</th>" for c in _RUN_COLS)
    return (
        f"<div class='fk-traj'>{_STYLE}<div><b>TrajectoryStore</b> "
        f"<code>{escape(str(store.runs_dir))}</code> · {total} runs"
        f"{f' (newest {limit} shown)' if total > limit else ''}</div>"
        f"<table><tr>{head}</tr>{''.join(rows)}</table></div>"
    )


def diff_html(d: TrajectoryDiff) -> str:
    """Two runs' steps side by side; differing rows highlighted."""

    rows = []
    for i, (a, b, differs) in enumerate(d.rows()):
        cls = " class='fk-diff'" if differs else ""
        cell_a = f"{escape(a.label)}<br>{escape(step_text(a))}" if a else ""
        cell_b = f"{escape(b.label)}<br>{escape(step_text(b))}" if b else ""
        rows.append(f"<tr{cls}><td>{i}</td><td>{cell_a}</td><td>{cell_b}</td></tr>")
    return (
        f"<div class='fk-traj'>{_STYLE}<div>{escape(d.summary())}</div><table>"
        f"<tr><th>#</th><th>{escape(d.left.run_id)}</th><th>{escape(d.right.run_id)}</th>"
        f"</tr>{''.join(rows)}</table></div>"
    )
