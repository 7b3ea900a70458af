"""`RunTotals`: what a run (or a strategy, a sample, a batch) spent: model and tool calls,
steps, tokens, cost, model time, failed calls. The one counter behind the recorder's
`RunEnd`, `Trajectory.totals()`, the eval runner's per-sample tally and progress bar, a
strategy's meter and an agent's run end.

Example:
    >>> t = RunTotals()
    >>> t.add(ModelResponse(usage=Usage(input_tokens=3, output_tokens=2))).model_calls
    1
    >>> (t + t).total_tokens
    10
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from forgekit.core.events import Event, ModelCall, RunEnd, StepEvent, ToolCallEvent
from forgekit.core.messages import ModelResponse, Usage

# the keys `RunEnd` stores them under (a trajectory file's last line)
RUN_END_KEYS = frozenset({"usage", "cost_usd", "model_calls", "tool_calls", "steps"})


@dataclass(slots=True)
class RunTotals:
    """Running totals of calls, tokens, cost, time and errors.

    A plain mutable record (counted once per event on the hot path: a slotted dataclass
    costs a tenth of a pydantic model's attribute writes); it serialises to the keys the
    files already use (`run_end_fields`, `to_dict`) and reads them back (`from_run_end`,
    `from_dict`).

    Attributes:
        model_calls: model calls made. Counted from events, a call that failed is a call
            (and an error); counted from responses (`add(ModelResponse)`), only answered
            calls count, and a caller counts a failure with `add_error()`.
        tool_calls: tool calls. steps: agent steps.
        input_tokens, output_tokens: token usage of the model calls.
        cost_usd: what the model calls cost.
        latency_s: model time, the sum of the calls' latencies.
        duration_s: wall time, set by whoever measured it (a run's end); added under `+`.
        errors: model calls that failed.
    """

    model_calls: int = 0
    tool_calls: int = 0
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    duration_s: float = 0.0
    errors: int = 0

    # -- counting -------------------------------------------------------------------------
    def add(self, item: Event | ModelResponse) -> RunTotals:
        """Count one event (model call, tool call, step; other events count nothing) or
        one model response; returns self."""
        if isinstance(item, (ModelCall, ModelResponse)):
            self.model_calls += 1
            self.input_tokens += item.usage.input_tokens
            self.output_tokens += item.usage.output_tokens
            self.cost_usd += item.cost_usd
            self.latency_s += item.latency_s
            if isinstance(item, ModelCall) and item.error is not None:
                self.errors += 1
        elif isinstance(item, ToolCallEvent):
            self.tool_calls += 1
        elif isinstance(item, StepEvent):
            self.steps += 1
        return self

    def add_error(self) -> None:
        """Count a model call that failed without a response (see `model_calls`)."""
        self.errors += 1

    @classmethod
    def of(cls, items: Iterable[Event | ModelResponse]) -> RunTotals:
        """The totals of some events or responses."""
        out = cls()
        for item in items:
            out.add(item)
        return out

    def __add__(self, other: RunTotals) -> RunTotals:
        if not isinstance(other, RunTotals):
            return NotImplemented
        return RunTotals(*(getattr(self, f) + getattr(other, f) for f in _FIELDS))

    def __iadd__(self, other: RunTotals) -> RunTotals:
        if not isinstance(other, RunTotals):
            return NotImplemented
        for f in _FIELDS:
            setattr(self, f, getattr(self, f) + getattr(other, f))
        return self

    # -- derived --------------------------------------------------------------------------
    @property
    def usage(self) -> Usage:
        return Usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    # -- serialisation (the keys already on disk) -----------------------------------------
    def run_end_fields(self) -> dict[str, Any]:
        """The totals as `RunEnd` keyword arguments (`usage`, `cost_usd`, `model_calls`,
        `tool_calls`, `steps`; duration is the recorder's)."""
        return {
            "usage": self.usage,
            "cost_usd": self.cost_usd,
            "model_calls": self.model_calls,
            "tool_calls": self.tool_calls,
            "steps": self.steps,
        }

    @classmethod
    def from_run_end(cls, end: RunEnd) -> RunTotals:
        """What a `RunEnd` recorded (latency and errors are not in it: 0)."""
        return cls(
            model_calls=end.model_calls,
            tool_calls=end.tool_calls,
            steps=end.steps,
            input_tokens=end.usage.input_tokens,
            output_tokens=end.usage.output_tokens,
            cost_usd=end.cost_usd,
            duration_s=end.duration_s,
        )

    def to_dict(self) -> dict[str, Any]:
        """Flat: every field plus `total_tokens` (the shape of `Trajectory.totals()`)."""
        out: dict[str, Any] = {f: getattr(self, f) for f in _FIELDS}
        out["total_tokens"] = self.total_tokens
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunTotals:
        """Read the flat keys (a results row, `to_dict()`); missing or null ones are 0,
        others are ignored. A nested `usage` (a `RunEnd`'s shape) is read too."""
        values = {f: data.get(f) or 0 for f in _FIELDS}
        usage = data.get("usage")
        if usage is not None:
            u = usage if isinstance(usage, Usage) else Usage.model_validate(usage)
            values["input_tokens"] = values["input_tokens"] or u.input_tokens
            values["output_tokens"] = values["output_tokens"] or u.output_tokens
        return cls(**values)


_FIELDS = tuple(f.name for f in fields(RunTotals))
