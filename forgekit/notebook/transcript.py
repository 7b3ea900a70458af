"""A run as the front ends show it (`static/transcript.js`): every step, and in each step
every event in full — the model call's messages one by one (role, content, tool calls),
its response, tokens in/out, cost, latency, cache hit and finish reason; a tool call's
arguments, result, error, policy decision and reason; a step's thought, action and
observation; a score with its answer, target and explanation; notes. The same state
feeds the trajectory inspector, the eval viewer's side-by-side transcripts and the cards.

Example:
    >>> from forgekit.notebook.transcript import trajectory_state
    >>> trajectory_state(Trajectory.load(path))["run"]["status"]   # doctest: +SKIP
    'completed'
"""

from __future__ import annotations

import json
from typing import Any

from forgekit.core.events import ModelCall, NoteEvent, ScoreEvent, StepEvent, ToolCallEvent

MAX_TEXT = 20_000  # characters of one text shown (the rest is counted)
CHILD_DEPTH = 3  # levels of child runs embedded when asked for (`children=True`)


def clip(text: Any) -> str:
    if not isinstance(text, str):
        text = json.dumps(text, indent=1, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f" … [{len(text)} chars]"


def _message_sections(e: ModelCall, previous: ModelCall | None) -> list[dict[str, str]]:
    """The request's messages, one section each. In an agent loop each call repeats the
    conversation so far: the messages already shown by `previous` are summarised in one
    line, so a long run's transcript grows linearly."""
    known = 0
    if previous is not None and 0 < len(previous.messages) <= len(e.messages):
        if e.messages[: len(previous.messages)] == previous.messages:
            known = len(previous.messages)
    out = []
    if previous is not None and known:
        out.append({"label": "earlier", "kind": "muted",
                    "text": f"{known} messages as in the call before (#{previous.seq})"})
    for m in e.messages[known:]:
        label = m.role + (f" {m.name}" if m.name else "")
        if m.tool_call_id:
            label += f" (result of {m.tool_call_id})"
        text = m.content or ""
        if m.tool_calls:
            calls = [{"id": t.id, "name": t.name, "arguments": t.arguments} for t in m.tool_calls]
            text += ("\n" if text else "") + json.dumps(calls, indent=1, default=str)
        out.append({"label": label, "kind": "message", "text": clip(text)})
    return out


def event_item(e: Any, previous: ModelCall | None = None) -> dict[str, Any]:
    """One event as the front end shows it: a title line, facts (`meta`: label/value
    pairs such as tokens, cost, latency, decision) and labelled sections."""
    sections: list[dict[str, str]] = []
    meta: list[list[str]] = []
    cost = latency = 0.0
    tokens = 0
    if isinstance(e, ModelCall):
        u = e.usage
        title = f"model {e.alias or e.model}" + (" (cached)" if e.cached else "")
        meta = [["model", e.model or e.alias], ["tokens", f"{u.input_tokens} in / {u.output_tokens} out"],
                ["cost", f"${e.cost_usd:.6f}"], ["latency", f"{e.latency_s:.2f}s"]]
        if e.cached:
            meta.append(["cache", "hit"])
        if e.finish_reason:
            meta.append(["finish", e.finish_reason])
        if e.retries:
            meta.append(["retries", str(e.retries)])
        sections += _message_sections(e, previous)
        if e.tools:
            names = [t.get("function", t).get("name", "?") for t in e.tools if isinstance(t, dict)]
            sections.append({"label": "tools offered", "kind": "muted", "text": ", ".join(names)})
        if e.params:
            sections.append({"label": "params", "kind": "muted", "text": clip(e.params)})
        resp = e.text or ""
        if e.tool_calls:
            calls = [{"id": t.id, "name": t.name, "arguments": t.arguments} for t in e.tool_calls]
            resp += ("\n" if resp else "") + json.dumps(calls, indent=1, default=str)
        sections.append({"label": "response", "kind": "response", "text": clip(resp)})
        if e.error:
            sections.append({"label": "error", "kind": "error", "text": clip(e.error)})
        cost, latency, tokens = e.cost_usd, e.latency_s, u.total_tokens
    elif isinstance(e, ToolCallEvent):
        title = f"tool {e.name} [{e.decision}]" + (" error" if e.error else "")
        meta = [["decision", e.decision], ["time", f"{e.duration_s:.2f}s"]]
        if e.decision_reason:
            meta.append(["why", e.decision_reason])
        if e.server:
            meta.append(["server", e.server])
        if e.call_id:
            meta.append(["call", e.call_id])
        sections.append({"label": "arguments", "kind": "args", "text": clip(e.arguments)})
        if e.result is not None:
            sections.append({"label": "result", "kind": "result", "text": clip(e.result)})
        if e.error:
            sections.append({"label": "error", "kind": "error", "text": clip(e.error)})
        latency = e.duration_s
    elif isinstance(e, StepEvent):
        title = f"step {e.step}" + (f": {e.action}" if e.action else "")
        for label in ("thought", "action", "observation"):
            value = getattr(e, label)
            if value:
                sections.append({"label": label, "kind": label, "text": clip(value)})
        cost, latency, tokens = e.cost_usd, e.latency_s, e.tokens
    elif isinstance(e, ScoreEvent):
        title = f"score {e.scorer} = {e.value}"
        for label in ("explanation", "answer", "target", "error"):
            value = getattr(e, label)
            if value is not None:
                kind = "error" if label == "error" else label
                sections.append({"label": label, "kind": kind, "text": clip(value)})
    elif isinstance(e, NoteEvent):
        title = f"note {e.kind}"
        sections.append({"label": "data", "kind": "data", "text": clip(e.data)})
    else:
        title = e.type
    return {
        "type": e.type,
        "seq": e.seq,
        "title": title,
        "meta": meta,
        "sections": sections,
        "cost": cost,
        "latency": latency,
        "tokens": tokens,
    }


def trajectory_state(t: Any, *, children: bool = False, _depth: int = 0) -> dict[str, Any]:
    """The JSON state of one run. With `children`, the child runs' own states are
    embedded (`child_runs`, up to `CHILD_DEPTH` levels), so a front end without a kernel
    (a static export) can open them too."""
    steps = []
    previous: ModelCall | None = None
    for s in t.steps():
        items = []
        for e in s.events:
            items.append(event_item(e, previous))
            if isinstance(e, ModelCall):
                previous = e
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
    state: dict[str, Any] = {
        "run": {
            "run_id": t.run_id,
            "solver": t.solver,
            "status": t.status,
            "models": list(t.start.models),
            "sample_id": t.start.sample_id,
            "answer": t.answer,
            "error": t.error,
            "scores": [
                {"scorer": e.scorer, "value": e.value, "explanation": e.explanation or e.error}
                for e in scores
            ],
            "target": None if target is None else clip(target),
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
    if children and _depth < CHILD_DEPTH and t.children:
        state["child_runs"] = [
            trajectory_state(c, children=True, _depth=_depth + 1) for c in t.children
        ]
    return state
