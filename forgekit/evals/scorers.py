"""Building scorers: from a name, a ``{type: ..., **params}`` spec, a function or a
`BoundScorer`; and the list of registered scorer types.

A scorer is a function `(sample, answer, ctx, **params) -> Score | float | bool`, sync or
async. `@scorer("name")` registers it; a suite names it with its params
(`{type: numeric, tolerance: 0.01}`). A plain float/bool result is wrapped in a Score.
"""

from __future__ import annotations

from typing import Any

# importing the built-in scorer modules registers them
from forgekit.evals import code_scorer, judge, text_scorers  # noqa: F401
from forgekit.evals.scorer_registry import (
    _REGISTRY,
    BoundScorer,
    ScorerFn,
    bind_scorer,
    scorer,
    to_thread,
)

__all__ = ["BoundScorer", "ScorerFn", "bind_scorer", "build_scorer", "registered_scorers",
           "scorer", "to_thread"]


def registered_scorers() -> list[str]:
    return sorted(_REGISTRY)


def build_scorer(spec: str | dict[str, Any] | ScorerFn | BoundScorer) -> BoundScorer:
    """Build a scorer from a name, a `{type: ..., name: ..., **params}` dict or a function."""
    if isinstance(spec, BoundScorer):
        return spec
    if callable(spec):
        name = getattr(spec, "scorer_name", getattr(spec, "__name__", "custom"))
        return BoundScorer(name, spec, {}, name)
    if isinstance(spec, str):
        spec = {"type": spec}
    spec = dict(spec)
    kind = spec.pop("type", None)
    spec.pop("version", None)
    label = spec.pop("name", None) or kind
    params = spec.pop("params", None) or {}
    params.update(spec)
    return bind_scorer(kind, params, label)
