"""The runner's tally around a sample's trajectory recorder: it counts cost, tokens, calls
and steps of a run (children included) and enforces per-sample limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forgekit.core.errors import ForgekitError
from forgekit.core.events import Event, ModelCall, RunEnd, StepEvent, ToolCallEvent
from forgekit.core.messages import Usage


class LimitExceeded(ForgekitError):
    """A sample went over its per-sample limit (steps, tokens or time)."""


@dataclass
class Totals:
    usage: Usage
    cost_usd: float = 0.0
    model_calls: int = 0
    tool_calls: int = 0
    steps: int = 0
    model_time_s: float = 0.0


class TallySink:
    """Wraps a sink: passes every event through and counts what the run spent.

    With `max_steps` / `max_tokens` set, the event that goes over raises LimitExceeded
    (after it is recorded), which ends the sample as failed with that reason.
    """

    def __init__(
        self,
        inner: Any,
        totals: Totals | None = None,
        *,
        max_steps: int | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self.inner = inner
        self.totals = totals or Totals(usage=Usage())
        self.max_steps = max_steps
        self.max_tokens = max_tokens

    @property
    def run_id(self) -> str:
        return self.inner.run_id

    @property
    def parent_run_id(self) -> str | None:
        return self.inner.parent_run_id

    @property
    def path(self) -> Path | None:
        p = getattr(self.inner, "path", None)
        if not p:
            return None
        return p if isinstance(p, Path) else Path(p)

    def emit(self, event: Event) -> Event:
        out = self.inner.emit(event)
        t = self.totals
        if isinstance(event, ModelCall):
            t.model_calls += 1
            t.usage = t.usage + event.usage
            t.cost_usd += event.cost_usd
            t.model_time_s += event.latency_s
            tokens = t.usage.input_tokens + t.usage.output_tokens
            if self.max_tokens is not None and tokens > self.max_tokens:
                raise LimitExceeded(f"token limit: {tokens} > {self.max_tokens} tokens")
        elif isinstance(event, ToolCallEvent):
            t.tool_calls += 1
        elif isinstance(event, StepEvent):
            t.steps += 1
            if self.max_steps is not None and t.steps > self.max_steps:
                raise LimitExceeded(f"step limit: more than {self.max_steps} steps")
        return out

    def child(self, solver: str, **start: Any) -> TallySink:
        return TallySink(
            self.inner.child(solver, **start),
            self.totals,
            max_steps=self.max_steps,
            max_tokens=self.max_tokens,
        )

    def finish(self, **kwargs: Any) -> None:
        t = self.totals
        totals = {
            "usage": t.usage,
            "cost_usd": t.cost_usd,
            "model_calls": t.model_calls,
            "tool_calls": t.tool_calls,
            "steps": t.steps,
        }
        finish = getattr(self.inner, "finish", None)
        if finish is None:
            self.inner.emit(RunEnd(**totals, **kwargs))
            self.inner.close()
            return
        try:
            finish(**kwargs, **totals)
        except TypeError:  # a recorder that computes its own totals
            finish(**kwargs)

    def close(self) -> None:
        self.inner.close()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
