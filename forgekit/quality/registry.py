"""Strategies by name, and building them from configuration (eval suites, YAML).

``STRATEGIES`` maps the names a suite uses to the classes. ``from_config`` builds a
strategy from a dict such as ``{"strategy": "best_of_n", "n": 5, "inner": {...}}``;
``inner`` may be a Solver object, a nested strategy config, or ``{"type": "direct",
...}`` (a `Direct` prompt solver); other solver types are built by the caller (the
evals registry) and passed as ``inner=``.
"""

from __future__ import annotations

from typing import Any

from forgekit.core.errors import ConfigError
from forgekit.quality.best_of_n import AskColleagues, BestOfN
from forgekit.quality.debate import Debate
from forgekit.quality.direct import Direct
from forgekit.quality.guardrail import Guardrail
from forgekit.quality.pairwise import Pairwise
from forgekit.quality.reviewer import ReviewerRetry
from forgekit.quality.strategy import Strategy

STRATEGIES: dict[str, type[Strategy]] = {
    "best_of_n": BestOfN,
    "ask_colleagues": AskColleagues,
    "pairwise": Pairwise,
    "reviewer": ReviewerRetry,
    "reviewer_retry": ReviewerRetry,
    "guardrail": Guardrail,
    "debate": Debate,
}


def _inner(spec: Any, given: Any) -> Any:
    if spec is None:
        if given is None:
            raise ConfigError(
                "a strategy needs an inner solver: pass inner= or give an 'inner' entry",
                key="inner",
            )
        return given
    if hasattr(spec, "solve"):
        return spec
    if isinstance(spec, dict):
        if "strategy" in spec:
            return from_config(spec, inner=given)
        if spec.get("type") == "direct":
            opts = {k: v for k, v in spec.items() if k != "type" and v is not None}
            return Direct(**opts)
        if given is not None:  # e.g. {"type": "prompt"}: the caller built it already
            return given
    raise ConfigError(
        f"cannot build inner solver from {spec!r}: give a Solver as inner=, "
        "a nested strategy, or {'type': 'direct', ...}",
        key="inner",
    )


def from_config(config: dict[str, Any], inner: Any = None) -> Strategy:
    """Build a strategy from its config (the inverse of ``strategy.config()``).

    Example:
        >>> from forgekit.quality import Direct, from_config
        >>> s = from_config({"strategy": "best_of_n", "n": 3}, inner=Direct("{input}"))
        >>> s.cfg.n
        3
    """
    cfg = dict(config)
    kind = cfg.pop("strategy", None) or cfg.pop("type", None)
    if kind not in STRATEGIES:
        raise ConfigError(
            f"unknown strategy {kind!r}; known: {', '.join(sorted(STRATEGIES))}", key="strategy"
        )
    solver = _inner(cfg.pop("inner", None), inner)
    return STRATEGIES[kind](solver, **cfg)


def build(type_name: str, **options: Any) -> Strategy:
    """A solver-registry factory: ``build("best_of_n", inner=solver, n=5)``."""
    return from_config({"strategy": type_name, **options})
