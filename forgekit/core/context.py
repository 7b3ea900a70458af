"""The Solver protocol, the event sink protocol and the RunContext a solver works through.

A solver never calls litellm, the filesystem or MLflow directly: everything goes through
`ctx` so that it lands in the run's trajectory and respects the run's budget.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from forgekit.core.bus import EventBus
from forgekit.core.events import Event, RunEnd, RunStart, RunStatus
from forgekit.core.messages import Message, ModelResponse
from forgekit.core.samples import Answer, Sample

_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)  # a forked child must not repeat the parent's ids


def new_run_id() -> str:
    """16 random hex digits (64 bits; from a generator seeded by the OS, not a syscall per
    id: `uuid4` asks the kernel each time, which under load costs a GIL hand-off)."""
    return f"{_ids.getrandbits(64):016x}"


@runtime_checkable
class EventSink(Protocol):
    """Where a run's events go. `emit` stamps run_id and seq and returns the event."""

    # read-only: a sink may compute them (a TallySink reads its inner sink's)
    @property
    def run_id(self) -> str: ...

    @property
    def parent_run_id(self) -> str | None: ...

    def emit(self, event: Event) -> Event: ...

    def child(self, solver: str, **start: Any) -> EventSink: ...

    def close(self) -> None: ...


class MemorySink:
    """An in-memory sink (tests, scratch runs). Children are kept in `children`."""

    def __init__(self, run_id: str | None = None, parent_run_id: str | None = None) -> None:
        self.run_id = run_id or new_run_id()
        self.parent_run_id = parent_run_id
        self.events: list[Event] = []
        self.children: list[MemorySink] = []
        self._seq = itertools.count()

    def emit(self, event: Event) -> Event:
        event.run_id = self.run_id
        event.seq = next(self._seq)
        self.events.append(event)
        return event

    def child(self, solver: str, **start: Any) -> MemorySink:
        sink = MemorySink(parent_run_id=self.run_id)
        sink.emit(RunStart(parent_run_id=self.run_id, solver=solver, **start))
        self.children.append(sink)
        return sink

    def close(self) -> None:
        pass


@runtime_checkable
class SpendLimit(Protocol):
    """A run's budget as the gateway uses it (implemented by `forgekit.models.Budget` and
    the eval budgets): a call holds its estimate before it is sent and settles what it cost.
    The reservation is the budget's own token, handed back unchanged."""

    def fits(self, est_usd: float, est_tokens: int, *, in_flight: bool = True) -> bool: ...

    async def areserve(self, est_usd: float, est_tokens: int, *, what: str = "call") -> Any: ...

    def settle(self, reservation: Any, usd: float, tokens: int) -> None: ...

    def release(self, reservation: Any) -> None: ...


@runtime_checkable
class ModelClient(Protocol):
    """What the gateway offers a run (implemented by `forgekit.models.Gateway`)."""

    async def acomplete(
        self,
        messages: list[Message] | str,
        *,
        model: str | None = None,
        tools: list[dict[str, Any]] | None = None,
        sink: EventSink | None = None,
        budget: SpendLimit | None = None,
        call_key: dict[str, Any] | None = None,
        task_class: str | None = None,
        **params: Any,
    ) -> ModelResponse: ...


@dataclass
class RunContext:
    """What a solver may touch during one run."""

    gateway: ModelClient
    sink: EventSink = field(default_factory=MemorySink)
    model: str | None = None  # the alias this run uses unless a call names another
    budget: SpendLimit | None = None  # a forgekit.models.Budget
    sample: Sample | None = None
    epoch: int = 0
    attempt: int = 0
    seed: int | None = None
    policy: Any = None  # forgekit.agents tool policy
    workspace: Path | None = None
    bus: EventBus = field(default_factory=EventBus)
    limits: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def run_id(self) -> str:
        return self.sink.run_id

    def call_key(self) -> dict[str, Any]:
        """The index that keeps repeated samples apart in the cache (sample/epoch/attempt)."""
        return {
            "sample": self.sample.id if self.sample is not None else None,
            "epoch": self.epoch,
            "attempt": self.attempt,
            "seed": self.seed,
        }

    async def complete(
        self,
        messages: list[Message] | str,
        *,
        model: str | None = None,
        tools: list[dict[str, Any]] | None = None,
        task_class: str | None = None,
        **params: Any,
    ) -> ModelResponse:
        """One model call through the gateway, recorded in this run and held to its budget."""
        if task_class is None and model is None and self.sample is not None:
            task_class = self.sample.task_class
        response = await self.gateway.acomplete(
            messages,
            model=model or self.model,
            tools=tools,
            sink=self.sink,
            budget=self.budget,
            call_key=self.call_key(),
            task_class=task_class,
            **params,
        )
        await self.bus.publish("on_model_query", response)
        return response

    def emit(self, event: Event) -> Event:
        out = self.sink.emit(event)
        self.bus.publish_sync("on_event", out)
        return out

    def child(self, solver: str, **overrides: Any) -> RunContext:
        """A context for a nested run (a strategy's sub-run, a debate participant)."""
        start = {k: overrides.pop(k) for k in list(overrides) if k in RunStart.model_fields}
        sink = self.sink.child(solver, **start)
        return replace(self, sink=sink, started=time.monotonic(), **overrides)

    def end(self, answer: Answer | None = None, *, status: RunStatus = "completed",
            error: str | None = None, **totals: Any) -> None:
        """Close a run with its RunEnd event (through `sink.finish` when the sink has one,
        e.g. the trajectory Recorder, which adds the totals and closes its file)."""
        finish = getattr(self.sink, "finish", None)
        if callable(finish):
            out = finish(status=status, answer=answer.text if answer else None, error=error,
                         duration_s=time.monotonic() - self.started, **totals)
            if out is not None:
                self.bus.publish_sync("on_event", out)
            return
        self.emit(RunEnd(status=status, answer=answer.text if answer else None, error=error,
                         duration_s=time.monotonic() - self.started, **totals))
        self.sink.close()


@runtime_checkable
class Solver(Protocol):
    """Anything that turns a sample into an answer: a prompt, an agent, a RAG pipeline,
    or a quality strategy wrapping another solver."""

    name: str

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer: ...

    def config(self) -> dict[str, Any]:
        """The constructor arguments, for the config hash and for rebuilding."""
        ...
