"""Per-sample limits and the whole-evaluation budget: settings of a YAML suite, of a
`Task` and of `evaluate`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """Per-sample limits."""

    model_config = ConfigDict(extra="forbid")

    steps: int | None = Field(default=None, ge=1)
    tokens: int | None = Field(default=None, ge=1)
    time_s: float | None = Field(default=None, gt=0)


class BudgetSpec(BaseModel):
    """A budget for the whole evaluation; once spent, remaining samples are recorded as
    `budget-exceeded` (and retried by a later resume)."""

    model_config = ConfigDict(extra="forbid")

    usd: float | None = Field(default=None, ge=0)
    tokens: int | None = Field(default=None, ge=1)
