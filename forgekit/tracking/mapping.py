"""What a forgekit run becomes in MLflow: params, metrics and tags (pure functions)."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from forgekit.core.events import ModelCall, ScoreEvent, ToolCallEvent
from forgekit.core.totals import RunTotals

if TYPE_CHECKING:
    from forgekit.trajectory import Trajectory

MAX_PARAM_LEN = 6000
MAX_TAG_LEN = 5000
_BAD_KEY = re.compile(r"[^A-Za-z0-9_\-./ ]")

# forgekit run status -> MLflow run status
MLFLOW_STATUS = {
    "completed": "FINISHED",
    "failed": "FAILED",
    "budget-exceeded": "FAILED",
    "interrupted": "KILLED",
    "running": "KILLED",
}


def key(name: str) -> str:
    """An MLflow-safe param/metric/tag key."""
    return _BAD_KEY.sub("_", str(name))[:250] or "_"


def _text(value: Any, limit: int) -> str:
    s = value if isinstance(value, str) else str(value)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def run_name(rec: Trajectory) -> str:
    s = rec.start
    name = s.solver or "run"
    if s.sample_id is not None:
        name += f"/{s.sample_id}"
    if s.epoch is not None:
        name += f"#e{s.epoch}"
    return name


def run_params(rec: Trajectory) -> dict[str, str]:
    """solver, models, config hash, seed, sample id, epoch, the run's own params, and the
    solver config's scalar top-level values (`config.<key>`)."""
    s = rec.start
    out: dict[str, Any] = {
        "solver": s.solver,
        "config_hash": s.config_hash,
        "models": ",".join(s.models),
    }
    for name, value in [("seed", s.seed), ("sample_id", s.sample_id), ("epoch", s.epoch)]:
        if value is not None:
            out[name] = value
    for k, v in s.config.items():
        if isinstance(v, (str, int, float, bool)) or v is None:
            out[f"config.{k}"] = v
    for k, v in s.params.items():
        out[k] = v
    return {key(k): _text(v, MAX_PARAM_LEN) for k, v in out.items() if v != ""}


def run_metrics(rec: Trajectory) -> dict[str, float]:
    """Cost, tokens, latency, counts and numeric scores. Totals come from the RunEnd when
    the run ended, else they are summed from the events."""
    calls = [e for e in rec.events if isinstance(e, ModelCall)]
    tools = [e for e in rec.events if isinstance(e, ToolCallEvent)]
    own = RunTotals.of(rec.events)  # this run's events only
    own.duration_s = rec.end_ts - rec.start.ts
    tot = dataclasses.replace(own)
    if rec.end is not None:
        # the recorder's totals (they may include child runs); a zero there falls back
        # to the events
        ended = RunTotals.from_run_end(rec.end)
        for k in ("cost_usd", "input_tokens", "output_tokens", "model_calls", "tool_calls",
                  "steps", "duration_s"):
            setattr(tot, k, getattr(ended, k) or getattr(own, k))
    m: dict[str, float] = {
        "cost_usd": tot.cost_usd,
        "input_tokens": tot.input_tokens,
        "output_tokens": tot.output_tokens,
        "total_tokens": tot.total_tokens,
        "model_calls": tot.model_calls,
        "tool_calls": tot.tool_calls,
        "steps": tot.steps,
        "duration_s": tot.duration_s,
        "model_latency_s": own.latency_s,
        "model_errors": own.errors,
        "tool_errors": sum(1 for t in tools if t.error),
        "cache_hits": sum(1 for c in calls if c.cached),
        "retries": sum(c.retries for c in calls),
    }
    if calls:
        m["mean_latency_s"] = own.latency_s / len(calls)
    for e in rec.events:
        if isinstance(e, ScoreEvent) and isinstance(e.value, (int, float)) and e.error is None:
            m[f"score.{e.scorer or 'score'}"] = float(e.value)
    return {key(k): float(v) for k, v in m.items()}


def run_tags(rec: Trajectory, parent_mlflow_run_id: str | None) -> dict[str, str]:
    """forgekit ids, version, status, the run's own tags; `mlflow.parentRunId` nests it."""
    import forgekit

    s = rec.start
    tags: dict[str, Any] = {
        "forgekit.run_id": s.run_id,
        "forgekit.version": forgekit.__version__,
        "forgekit.status": rec.status,
        "forgekit.solver": s.solver,
        "mlflow.runName": run_name(rec),
    }
    if s.parent_run_id:
        tags["forgekit.parent_run_id"] = s.parent_run_id
    if parent_mlflow_run_id:
        tags["mlflow.parentRunId"] = parent_mlflow_run_id
    if s.sample_id is not None:
        tags["forgekit.sample_id"] = s.sample_id
    if rec.end is not None:
        if rec.end.error:
            tags["forgekit.error"] = rec.end.error
        if rec.end.stop_reason:
            tags["forgekit.stop_reason"] = rec.end.stop_reason
    if rec.truncated:
        tags["forgekit.truncated"] = "true"
    for lib, version in s.versions.items():
        tags[f"forgekit.versions.{lib}"] = version
    for k, v in s.tags.items():
        if not k.startswith("mlflow."):
            tags[k] = v
    return {key(k): _text(v, MAX_TAG_LEN) for k, v in tags.items() if v not in ("", None)}
