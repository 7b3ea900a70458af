"""Cards: live views of objects that are mostly read, not browsed — an `Agent` (its config,
tools, policy and last run) and a quality strategy's `StrategyResult` (candidates, votes,
choice). One front end (`static/card.js`) renders titled sections and an optional run.

Example:
    >>> from forgekit.notebook.cards import AgentCard
    >>> AgentCard(agent)          # doctest: +SKIP
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from forgekit.core.component import config_of
from forgekit.notebook.live import LiveView


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if _is_component(value):
        return describe(value)
    return json.dumps(value, indent=1, default=str, ensure_ascii=False)


def _is_component(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str) and "version" in value


_OPERATORS = {"or": " | ", "and": " & "}


def describe(config: Any, *, nested: bool = False) -> str:
    """A component's config in one readable line, as it would be written in Python:
    ``final_answer() | max_steps(n=2)`` rather than nested JSON."""
    if _is_component(config):
        kind = config["type"]
        args = {k: v for k, v in config.items() if k not in ("type", "version")}
        if kind in _OPERATORS and set(args) == {"conditions"}:
            parts = [describe(c, nested=True) for c in args["conditions"]]
            line = _OPERATORS[kind].join(parts)
            return f"({line})" if nested and len(parts) > 1 else line
        inner = ", ".join(f"{k}={describe(v, nested=True)}" for k, v in args.items())
        return f"{kind}({inner})"
    if isinstance(config, list):
        return "[" + ", ".join(describe(v, nested=True) for v in config) + "]"
    return json.dumps(config, default=str, ensure_ascii=False)


def card_html(state: dict[str, Any]) -> str:
    """The script-free card (what papermill keeps and nbval compares)."""
    cell = "border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top;"
    cell += "white-space:pre-wrap;overflow-wrap:anywhere"
    parts = [f"<div class='fk-static-card'><b>{escape(state['title'])}</b>"]
    if state.get("subtitle"):
        parts.append(f" <span>{escape(state['subtitle'])}</span>")
    for s in state.get("sections", []):
        parts.append(f"<div><b>{escape(s['label'])}</b>")
        if "text" in s:
            parts.append(f"<pre style='white-space:pre-wrap'>{escape(s['text'])}</pre>")
        if "pairs" in s:
            rows = "".join(
                f"<tr><th style='{cell}'>{escape(str(k))}</th><td style='{cell}'>"
                f"{escape(str(v))}</td></tr>"
                for k, v in s["pairs"]
            )
            parts.append(f"<table style='border-collapse:collapse'>{rows}</table>")
        if "rows" in s:
            cols = s.get("columns") or list((s["rows"] or [{}])[0])
            head = "".join(f"<th style='{cell}'>{escape(c)}</th>" for c in cols)
            body = "".join(
                "<tr>"
                + "".join(f"<td style='{cell}'>{escape(str(r.get(c, '')))}</td>" for c in cols)
                + "</tr>"
                for r in s["rows"]
            )
            parts.append(f"<table style='border-collapse:collapse'><tr>{head}</tr>{body}</table>")
        if "html" in s:
            parts.append(s["html"])
        parts.append("</div>")
    run = state.get("run")
    if run and run.get("run"):
        r = run["run"]
        parts.append(
            f"<div><b>{escape(state.get('run_label', 'last run'))}</b>: {escape(str(r['status']))}"
            f" · {len(run.get('steps', []))} steps · {r['model_calls']} model calls"
            + (f" · answer: {escape(str(r['answer']))}" if r.get("answer") else "")
            + "</div>"
        )
    parts.append("</div>")
    return "".join(parts)


class Card(LiveView):
    """Base of the cards: subclasses implement `state()`."""

    widget_name = "card"

    def html(self) -> str:
        return card_html(self.state())


class AgentCard(Card):
    """An agent: how it is configured, its tools, its policy, its last run."""

    def __init__(self, agent: Any) -> None:
        super().__init__()
        self.agent = agent

    def state(self) -> dict[str, Any]:
        from forgekit.notebook.transcript import trajectory_state

        a = self.agent
        cfg = config_of(a)
        pairs = [
            (k, _text(v))
            for k, v in cfg.items()
            if k not in ("tools", "bundles", "policy", "name", "model", "version")
            and v not in (None, [], {})
        ]
        tools = [{"name": t.name, "description": t.description} for t in a.tools]
        sections: list[dict[str, Any]] = [{"label": "config", "pairs": pairs}]
        sections.append(
            {"label": f"tools ({len(tools)})", "rows": tools, "columns": ["name", "description"]}
            if tools
            else {"label": "tools", "text": "none"}
        )
        sections.append({"label": "policy", "text": _text(cfg.get("policy") or "default")})
        run = None
        if getattr(a, "last_sink", None) is not None:
            try:
                run = {"cell": "", **trajectory_state(a.trajectory(), children=True)}
            except Exception as e:  # the card still shows the config
                run = {"cell": "", "error": f"cannot read the last run: {e}"}
        return {
            "kind": "agent",
            "title": f"agent {a.name}",
            "subtitle": f"model {a.model}" if a.model else "",
            "sections": sections,
            "run": run,
            "run_label": "last run",
        }

    def __repr__(self) -> str:
        return f"AgentCard({self.agent!r})"


class StrategyCard(Card):
    """A quality strategy's result: the candidates, how the choice was made, what it cost."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result

    def state(self) -> dict[str, Any]:
        r = self.result
        meta = r.metadata
        run = None
        if getattr(r, "sink", None) is not None and getattr(r.sink, "events", None):
            from forgekit.notebook.transcript import trajectory_state
            from forgekit.trajectory import Trajectory

            try:
                run = {"cell": "", **trajectory_state(Trajectory.from_sink(r.sink), children=True)}
            except Exception as e:  # the card still shows the candidates
                run = {"cell": "", "error": f"cannot read the run: {e}"}
        return {
            "kind": "strategy",
            "title": str(meta.get("strategy_name", r.strategy)),
            "subtitle": f"{r.calls} calls · ${r.cost_usd:.6f}",
            "sections": [{"label": "result", "html": r._repr_html_()}],
            "run": run,
            "run_label": "the strategy's run",
        }

    def __repr__(self) -> str:
        return f"StrategyCard({self.result!r})"
