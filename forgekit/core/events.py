"""Typed trajectory events: the one record of what happened in a run.

Every event carries the run it belongs to and its position in that run (`seq`). The
trajectory layer writes them as JSON lines, one per line, flushed as they happen.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from forgekit.core.messages import Message, ToolCall, Usage

RunStatus = Literal["running", "completed", "failed", "budget-exceeded", "interrupted"]
# what the tool policy (and a human, for `ask`) decided about a tool call
ToolDecision = Literal["allow", "deny", "ask-approved", "ask-denied", "n/a"]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str = ""
    seq: int = 0
    ts: float = Field(default_factory=time.time)


class RunStart(_Event):
    type: Literal["run_start"] = "run_start"
    parent_run_id: str | None = None
    solver: str = ""
    config_hash: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    models: list[str] = Field(default_factory=list)
    seed: int | None = None
    sample_id: str | None = None
    epoch: int | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)


class ModelCall(_Event):
    type: Literal["model_call"] = "model_call"
    alias: str = ""
    model: str = ""
    messages: list[Message] = Field(default_factory=list)
    tools: list[dict[str, Any]] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    latency_s: float = 0.0
    cached: bool = False
    retries: int = 0
    finish_reason: str | None = None
    error: str | None = None
    # the cache-key index of this call (sample / epoch / attempt), kept for replay
    call_key: dict[str, Any] = Field(default_factory=dict)


class ToolCallEvent(_Event):
    type: Literal["tool_call"] = "tool_call"
    call_id: str = ""
    name: str = ""
    arguments: dict[str, Any] | str = Field(default_factory=dict)
    result: str | None = None
    error: str | None = None
    decision: ToolDecision = "n/a"
    decision_reason: str | None = None
    duration_s: float = 0.0
    # the MCP server that ran the tool (None for native tools); `name` is the model's name
    server: str | None = None


class StepEvent(_Event):
    type: Literal["step"] = "step"
    step: int = 0
    thought: str | None = None
    action: str | None = None
    observation: str | None = None
    cost_usd: float = 0.0
    latency_s: float = 0.0
    tokens: int = 0


class ScoreEvent(_Event):
    type: Literal["score"] = "score"
    scorer: str = ""
    value: float | bool | str | None = None
    answer: str | None = None
    target: Any = None
    explanation: str | None = None
    error: str | None = None


class NoteEvent(_Event):
    """A free-form record (a strategy's vote, a policy note, a warning)."""

    type: Literal["note"] = "note"
    kind: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class RunEnd(_Event):
    type: Literal["run_end"] = "run_end"
    status: RunStatus = "completed"
    answer: str | None = None
    error: str | None = None
    stop_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    duration_s: float = 0.0
    model_calls: int = 0
    tool_calls: int = 0
    steps: int = 0


Event = Annotated[
    RunStart | ModelCall | ToolCallEvent | StepEvent | ScoreEvent | NoteEvent | RunEnd,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(data: dict[str, Any] | str | bytes) -> Event:
    """Parse one event from a dict or a JSON string."""
    if isinstance(data, (str, bytes)):
        return EVENT_ADAPTER.validate_json(data)
    return EVENT_ADAPTER.validate_python(data)
