"""The runner's tally around a sample's trajectory recorder: it counts cost, tokens, calls
and steps of a run (children included) and enforces per-sample limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from forgekit.core.context import EventSink
from forgekit.core.errors import ForgekitError
from forgekit.core.events import Event, ModelCall, RunEnd, StepEvent
from forgekit.core.totals import RunTotals


class LimitExceeded(ForgekitError):
    """A sample went over its per-sample limit (steps, tokens or time)."""


class TallySink:
    """Wraps a sink: passes every event through and counts what the run spent.

    With `max_steps` / `max_tokens` set, the event that goes over raises LimitExceeded
    (after it is recorded), which ends the sample as failed with that reason.
    """

    def __init__(
        self,
        inner: EventSink,
        totals: RunTotals | None = None,
        *,
        max_steps: int | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self.inner = inner
        self.totals = totals if totals is not None else RunTotals()
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
        t = self.totals.add(event)
        if isinstance(event, ModelCall):
            tokens = t.total_tokens
            if self.max_tokens is not None and tokens > self.max_tokens:
                raise LimitExceeded(f"token limit: {tokens} > {self.max_tokens} tokens")
        elif isinstance(event, StepEvent):
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
        totals = self.totals.run_end_fields()
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


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, sort_keys=True)


def dumps(value: Any) -> str:
    """JSON text with sorted keys (anything else as its str): a result's `target`."""
    return _ENCODER.encode(value)
