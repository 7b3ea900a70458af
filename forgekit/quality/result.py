"""Notebook views of a strategy's result: candidates, votes/scores/matches and choice.

`StrategyResult` wraps the `Answer` a strategy returned (everything it shows comes from
``answer.metadata``, so a result read back from a trajectory or an eval renders too).
`_repr_html_` is static HTML: it survives papermill and nbval.
"""

from __future__ import annotations

import html
import json
from typing import Any

from forgekit.core.context import EventSink
from forgekit.core.display import LiveDisplay
from forgekit.core.html_table import cell_text, table_html
from forgekit.core.samples import Answer, Sample


def _esc(value: Any, limit: int = 160) -> str:
    return cell_text(value, limit)


def config_html(name: str, config: dict[str, Any]) -> str:
    # long prompt templates are part of the config but not worth a table row each
    rows = [
        {"option": k, "value": v}
        for k, v in config.items()
        if k != "inner" and not k.endswith("_prompt")
    ]
    inner = config.get("inner", {})
    rows.append({"option": "inner", "value": inner.get("name") or inner.get("type") or inner})
    return f"<div><b>{html.escape(name)}</b>{table_html(rows, ['option', 'value'])}</div>"


# the columns worth showing per strategy (the rest is in the metadata)
_COLUMNS = {
    "best_of_n": ["index", "model", "text", "key", "votes", "status", "calls"],
    "ask_colleagues": ["index", "model", "text", "key", "votes", "status", "calls"],
    "pairwise": ["index", "text", "wins", "status", "calls"],
    "reviewer": ["index", "text", "score", "score_samples", "check", "status", "calls"],
    "guardrail": ["index", "text", "accepted", "feedback", "status", "calls"],
    "debate": ["index", "role", "round", "text", "status", "calls"],
}


class StrategyResult(LiveDisplay):
    """A strategy's answer with a view of how it was reached.

    Attributes: `answer`, `text`, `candidates` (list of dicts), `chosen` (index or
    None), `calls`, `cost_usd`, `stop_reason`, `metadata`.
    """

    def __init__(
        self, answer: Answer, *, sample: Sample | None = None, sink: EventSink | None = None
    ) -> None:
        self.answer = answer
        self.sample = sample
        self.sink = sink
        self.metadata: dict[str, Any] = dict(answer.metadata)

    @classmethod
    def from_answer(cls, answer: Answer, sample: Sample | None = None) -> StrategyResult:
        return cls(answer, sample=sample)

    text = property(lambda self: self.answer.text)
    strategy = property(lambda self: self.metadata.get("strategy", ""))
    candidates = property(lambda self: list(self.metadata.get("candidates", [])))
    chosen = property(lambda self: self.metadata.get("chosen"))
    calls = property(lambda self: int(self.metadata.get("calls", 0)))
    cost_usd = property(lambda self: float(self.metadata.get("cost_usd", 0.0)))
    stop_reason = property(lambda self: self.metadata.get("stop_reason"))

    def to_frame(self) -> Any:
        """The candidates as a polars DataFrame."""
        import polars as pl

        rows = [
            {
                k: (json.dumps(v, default=str) if isinstance(v, (dict, list)) else v)
                for k, v in row.items()
            }
            for row in self.candidates
        ]
        return pl.DataFrame(rows, infer_schema_length=None)

    def summary(self) -> str:
        """One line: strategy, choice, calls, cost, stop reason."""
        return (
            f"{self.metadata.get('strategy_name', self.strategy)}: chose "
            f"#{self.chosen} {self.text.strip()[:60]!r} ({self.calls} calls, "
            f"${self.cost_usd:.6f}"
            + (f", stopped: {self.stop_reason}" if self.stop_reason else "")
            + ")"
        )

    def _details_html(self) -> str:
        meta = self.metadata
        parts = []
        if meta.get("votes"):
            rows = [
                {"answer": k, "votes": v}
                for k, v in sorted(meta["votes"].items(), key=lambda kv: -kv[1])
            ]
            tied = (
                f" (tie between {', '.join(meta['tied'])}: earliest wins)"
                if meta.get("tied")
                else ""
            )
            parts.append(
                f"<div>votes ({_esc(meta.get('normalize'))}){_esc(tied)}"
                f"{table_html(rows, ['answer', 'votes'])}</div>"
            )
        if meta.get("matches"):
            parts.append(
                "<div>matches"
                + table_html(meta["matches"], ["round", "a", "b", "orders", "verdict", "winner"])
                + "</div>"
            )
        if meta.get("validations"):
            parts.append(
                "<div>validations"
                + table_html(meta["validations"], ["index", "accepted", "feedback"])
                + "</div>"
            )
        fallbacks = [n for n in meta.get("notes", []) if n.get("kind") in ("fallback", "stop")]
        if fallbacks:
            parts.append(
                "<div>notes"
                + table_html(fallbacks, ["kind", "purpose", "reason", "detail"])
                + "</div>"
            )
        return "".join(parts)

    def _repr_html_(self) -> str:
        meta = self.metadata
        kind = meta.get("strategy", "")
        cands = self.candidates
        cols = _COLUMNS.get(kind, ["index", "role", "text", "status", "calls"])
        pos = next((i for i, c in enumerate(cands) if c.get("index") == self.chosen), None)
        question = (
            f"<div><i>{_esc(self.sample.input_text(), 300)}</i></div>"
            if self.sample is not None
            else ""
        )
        stop = f" · stopped: {_esc(self.stop_reason)}" if self.stop_reason else ""
        return (
            f"<div class='forgekit-strategy'><b>{_esc(meta.get('strategy_name', kind))}</b>"
            f"{question}<div>chosen: <b>#{_esc(self.chosen)}</b> {_esc(self.text, 300)}</div>"
            f"<div>{self.calls} calls ({meta.get('judge_calls', 0)} by judges) · "
            f"${self.cost_usd:.6f} · {meta.get('tokens', 0)} tokens{stop}</div>"
            f"<div>candidates{table_html(cands, cols, highlight=pos)}</div>"
            f"{self._details_html()}</div>"
        )

    def __repr__(self) -> str:
        return f"StrategyResult({self.summary()})"
