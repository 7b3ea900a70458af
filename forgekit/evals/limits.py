"""Per-sample limits and the whole-evaluation budget: settings of a YAML suite, of a
`Task` and of `evaluate`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from forgekit.core.errors import ConfigError


def check_limit(limit: Any) -> None:
    """`limit` is None or a whole number >= 1 (0 or -5 used to run nothing or 5)."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a whole number >= 1, got {limit!r}", key="limit")


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
