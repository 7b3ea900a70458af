"""Strategies by name, and building them from configuration (eval suites, YAML).

``STRATEGIES`` maps the names a suite uses to the classes (each is also a component
type, so ``forgekit.core.component.build_component`` builds any of them). ``from_config``
builds a strategy from a dict such as ``{"type": "best_of_n", "n": 5, "inner": {...}}``;
``inner`` may be a Solver object or any solver component config.
"""

from __future__ import annotations

from typing import Any

from forgekit.core.component import build_component, register_alias
from forgekit.core.context import Solver
from forgekit.core.errors import ConfigError
from forgekit.quality.best_of_n import AskColleagues, BestOfN
from forgekit.quality.debate import Debate
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


def from_config(config: dict[str, Any], inner: Solver | None = None) -> Strategy:
    """Build a strategy from its config (the inverse of ``strategy.config()``).

    Accepts ``type`` (or the older ``strategy``) as the strategy's name; ``inner`` may be
    in the config (a nested component config, e.g. ``{"type": "prompt", ...}``) or given
    as a Solver object.

    Example:
        >>> from forgekit.quality import Direct, from_config
        >>> s = from_config({"type": "best_of_n", "n": 3}, inner=Direct("{input}"))
        >>> s.cfg.n
        3
    """
    cfg = dict(config)
    kind = cfg.pop("strategy", None) or cfg.pop("type", None)
    if kind not in STRATEGIES:
        raise ConfigError(
            f"unknown strategy {kind!r}; known: {', '.join(sorted(STRATEGIES))}", key="type"
        )
    spec = cfg.pop("inner", None)
    if spec is None:
        if inner is None:
            raise ConfigError(
                "a strategy needs an inner solver: pass inner= or give an 'inner' entry",
                key="inner",
            )
        spec = inner
    elif isinstance(spec, dict):
        spec = dict(spec)
        if "strategy" in spec:  # an older nested strategy config
            spec = from_config(spec, inner=inner)
        elif spec.get("type") in (None, "direct"):
            spec["type"] = "prompt"
    cfg.pop("version", None)
    return build_component({"type": STRATEGIES[kind].component_type, "inner": spec, **cfg},
                           kind="solver")


def build(type_name: str, **options: Any) -> Strategy:
    """A solver-registry factory: ``build("best_of_n", inner=solver, n=5)``."""
    return from_config({"strategy": type_name, **options})


register_alias("reviewer_retry", "reviewer")
