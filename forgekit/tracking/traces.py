"""A forgekit run tree as one MLflow trace: a span per run, step, model call and tool call.

Spans carry the recorded times (a model call ends at its event's timestamp and lasts its
latency), inputs and outputs in OpenAI chat shape (so the trace view renders the
conversation), and token usage and cost in MLflow's attributes.
"""

from __future__ import annotations

import logging
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
    from forgekit.trajectory import Trajectory

log = logging.getLogger(__name__)

_USAGE = "mlflow.chat.tokenUsage"
_COST = "mlflow.llm.cost"
_MODEL = "mlflow.llm.model"
_TOOLS = "mlflow.chat.tools"


def _ns(ts: float) -> int:
    return int(ts * 1e9)


class _TraceWriter:
    def __init__(self, client: Any, trace_id: str) -> None:
        self.client = client
        self.trace_id = trace_id
        self.spans = 0

    def span(
        self,
        parent: tuple[str, float],
        name: str,
        span_type: str,
        start: float,
        end: float,
        inputs: Any = None,
        outputs: Any = None,
        attributes: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> tuple[str, float]:
        parent_id, parent_start = parent
        start = max(start, parent_start)
        end = max(end, start)
        span = self.client.start_span(
            name,
            trace_id=self.trace_id,
            parent_id=parent_id,
            span_type=span_type,
            inputs=inputs,
            attributes=attributes,
            start_time_ns=_ns(start),
        )
        self.spans += 1
        return span.span_id, start

    def end(self, span_id: str, outputs: Any, error: str | None, end: float) -> None:
        self.client.end_span(
            self.trace_id,
            span_id,
            outputs=outputs,
            attributes={"error": error} if error else None,
            status="ERROR" if error else "OK",
            end_time_ns=_ns(end),
        )

    def leaf(
        self,
        parent: tuple[str, float],
        name: str,
        span_type: str,
        start: float,
        end: float,
        **kw: Any,
    ) -> None:
        span_id, _ = self.span(parent, name, span_type, start, end, **kw)
        self.end(span_id, kw.get("outputs"), kw.get("error"), max(end, start))


def _model_span(w: _TraceWriter, parent: tuple[str, float], e: ModelCall) -> None:
    inputs: dict[str, Any] = {
        "messages": [m.to_openai() for m in e.messages],
        "model": e.model or e.alias,
        **e.params,
    }
    if e.tools:
        inputs["tools"] = e.tools
    message: dict[str, Any] = {"role": "assistant", "content": e.text or None}
    if e.tool_calls:
        message["tool_calls"] = [tc.to_openai() for tc in e.tool_calls]
    usage = {
        "input_tokens": e.usage.input_tokens,
        "output_tokens": e.usage.output_tokens,
        "total_tokens": e.usage.total_tokens,
    }
    outputs = (
        None
        if e.error
        else {
            "choices": [{"index": 0, "message": message, "finish_reason": e.finish_reason}],
            "usage": {
                "prompt_tokens": usage["input_tokens"],
                "completion_tokens": usage["output_tokens"],
                "total_tokens": usage["total_tokens"],
            },
            "model": e.model,
        }
    )
    attrs: dict[str, Any] = {
        _USAGE: usage,
        _COST: {"total_cost": e.cost_usd},
        _MODEL: e.model or e.alias,
        "forgekit.alias": e.alias,
        "forgekit.cost_usd": e.cost_usd,
        "forgekit.latency_s": e.latency_s,
        "forgekit.cached": e.cached,
        "forgekit.retries": e.retries,
        "forgekit.seq": e.seq,
    }
    if e.tools:
        attrs[_TOOLS] = e.tools
    w.leaf(
        parent,
        e.alias or e.model or "model",
        "CHAT_MODEL",
        e.ts - e.latency_s,
        e.ts,
        inputs=inputs,
        outputs=outputs,
        attributes=attrs,
        error=e.error,
    )


def _tool_span(w: _TraceWriter, parent: tuple[str, float], e: ToolCallEvent) -> None:
    attrs = {
        "forgekit.decision": e.decision,
        "forgekit.duration_s": e.duration_s,
        "forgekit.call_id": e.call_id,
        "forgekit.seq": e.seq,
    }
    if e.decision_reason:
        attrs["forgekit.decision_reason"] = e.decision_reason
    w.leaf(
        parent,
        e.name or "tool",
        "TOOL",
        e.ts - e.duration_s,
        e.ts,
        inputs=e.arguments if isinstance(e.arguments, dict) else {"arguments": e.arguments},
        outputs=None if e.error else {"result": e.result},
        attributes=attrs,
        error=e.error,
    )


def _other_span(w: _TraceWriter, parent: tuple[str, float], e: Event) -> None:
    if isinstance(e, ScoreEvent):
        w.leaf(
            parent,
            f"score {e.scorer}",
            "EVALUATOR",
            e.ts,
            e.ts,
            inputs={"answer": e.answer, "target": e.target},
            outputs={"value": e.value, "explanation": e.explanation},
            error=e.error,
        )
    elif isinstance(e, NoteEvent) and e.kind != "child_run":  # children get their own span
        w.leaf(parent, f"note {e.kind}", "UNKNOWN", e.ts, e.ts, outputs=e.data)


def _leaf(w: _TraceWriter, parent: tuple[str, float], e: Event) -> None:
    if isinstance(e, ModelCall):
        _model_span(w, parent, e)
    elif isinstance(e, ToolCallEvent):
        _tool_span(w, parent, e)
    else:
        _other_span(w, parent, e)


def _start_of(e: Event) -> float:
    if isinstance(e, ModelCall):
        return e.ts - e.latency_s
    if isinstance(e, ToolCallEvent):
        return e.ts - e.duration_s
    return e.ts


def _run_body(w: _TraceWriter, parent: tuple[str, float], rec: Trajectory) -> None:
    """Spans for a run's events: each step groups the calls recorded since the previous
    step; calls after the last step and child runs hang under the run itself."""
    pending: list[Event] = []
    prev_end = parent[1]
    for e in rec.body:
        if isinstance(e, StepEvent):
            start = min([prev_end, *(_start_of(p) for p in pending)]) if pending else prev_end
            step = w.span(
                parent,
                f"step {e.step}",
                "CHAIN",
                start,
                e.ts,
                inputs={"thought": e.thought, "action": e.action},
                attributes={
                    "forgekit.step": e.step,
                    "forgekit.cost_usd": e.cost_usd,
                    "forgekit.tokens": e.tokens,
                    "forgekit.seq": e.seq,
                },
            )
            for p in pending:
                _leaf(w, step, p)
            w.end(step[0], {"observation": e.observation}, None, max(e.ts, step[1]))
            pending = []
            prev_end = e.ts
        else:
            pending.append(e)
    for p in pending:
        _leaf(w, parent, p)
    for child in rec.children:
        _run_span(w, parent, child)


def _run_inputs(rec: Trajectory) -> dict[str, Any]:
    s = rec.start
    return {
        "solver": s.solver,
        "sample_id": s.sample_id,
        "models": s.models,
        "seed": s.seed,
        "params": s.params,
    }


def _run_outputs(rec: Trajectory) -> dict[str, Any]:
    end = rec.end
    return {"status": rec.status, "answer": end.answer if end else None}


def _run_span(w: _TraceWriter, parent: tuple[str, float], rec: Trajectory) -> None:
    error = rec.end.error if rec.end else None
    span = w.span(
        parent,
        rec.start.solver or "run",
        "AGENT",
        rec.start.ts,
        rec.end_ts,
        inputs=_run_inputs(rec),
        attributes={"forgekit.run_id": rec.run_id},
    )
    _run_body(w, span, rec)
    w.end(
        span[0],
        _run_outputs(rec),
        error if rec.status != "completed" else None,
        max(rec.end_ts, span[1]),
    )


def log_run_trace(client: Any, experiment_id: str, rec: Trajectory, mlflow_run_id: str) -> str:
    """Write one trace for `rec` and its descendants, linked to the MLflow run.

    Returns:
        the MLflow trace id.
    """
    root = client.start_trace(
        rec.start.solver or "run",
        span_type="AGENT",
        inputs=_run_inputs(rec),
        attributes={"forgekit.run_id": rec.run_id},
        tags={
            "forgekit.run_id": rec.run_id,
            **({"forgekit.sample_id": rec.start.sample_id} if rec.start.sample_id else {}),
        },
        experiment_id=experiment_id,
        start_time_ns=_ns(rec.start.ts),
        run_id=mlflow_run_id,
    )
    w = _TraceWriter(client, root.trace_id)
    _run_body(w, (root.span_id, rec.start.ts), rec)
    failed = rec.status != "completed"
    client.end_trace(
        root.trace_id,
        outputs=_run_outputs(rec),
        attributes={"error": rec.end.error} if failed and rec.end else None,
        status="ERROR" if failed else "OK",
        end_time_ns=_ns(rec.end_ts),
    )
    return root.trace_id


def log_feedback(traces: list[tuple[str, Trajectory]]) -> None:
    """The runs' scores as MLflow feedback on their traces (the trace view's assessments).
    Best effort: a store without assessments keeps the score spans and run metrics."""
    todo = [(tid, e) for tid, rec in traces for e in rec.events if isinstance(e, ScoreEvent)]
    if not todo:
        return
    import mlflow
    from mlflow.entities import AssessmentError, AssessmentSource

    try:
        mlflow.flush_trace_async_logging()  # the traces must be stored before their feedback
        for trace_id, e in todo:
            value = e.value if isinstance(e.value, (bool, int, float, str)) else None
            mlflow.log_feedback(
                trace_id=trace_id,
                name=e.scorer or "score",
                value=None if e.error else value,
                rationale=e.explanation,
                source=AssessmentSource(source_type="CODE", source_id=f"forgekit:{e.scorer}"),
                error=AssessmentError(error_code="SCORING_ERROR", error_message=e.error)
                if e.error
                else None,
            )
    except Exception:  # noqa: BLE001
        log.debug("logging scores as trace feedback failed", exc_info=True)
