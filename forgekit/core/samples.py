"""Task samples, solver answers and scores."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from forgekit.core.messages import Message, Usage


class Sample(BaseModel):
    """One task sample: an input, optional target(s) and choices, metadata."""

    model_config = ConfigDict(extra="forbid")

    id: str
    input: str | list[Message]
    target: str | list[str] | None = None
    choices: list[str] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict)
    setup: str | None = None
    # the routing class a solver may ask the gateway for ("code", "math", ...)
    task_class: str | None = None

    @property
    def targets(self) -> list[str]:
        if self.target is None:
            return []
        return [self.target] if isinstance(self.target, str) else list(self.target)

    def input_text(self) -> str:
        if isinstance(self.input, str):
            return self.input
        return "\n".join(m.content or "" for m in self.input if m.role == "user")


class Answer(BaseModel):
    """What a solver returns."""

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    data: Any = None
    messages: list[Message] = Field(default_factory=list)
    stop_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    metadata: dict[str, Any] = Field(default_factory=dict)


class Score(BaseModel):
    """A scorer's verdict on one answer. `value` is 0..1 (or bool) for accuracy-like
    scorers; `error` is set when the scorer itself could not decide."""

    model_config = ConfigDict(extra="forbid")

    scorer: str
    value: float | bool | str | None = None
    answer: str | None = None
    explanation: str | None = None
    error: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def as_float(self) -> float | None:
        if self.value is None or isinstance(self.value, str):
            return None
        return float(self.value)
