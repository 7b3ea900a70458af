"""Solvers an eval suite can name: the prompt-template solver, agents (`type: agent`)
and quality strategies (`type: best_of_n`, ...) built from their layers on first use, and
a registry for any other solver type (`register_solver`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from forgekit.core.errors import ConfigError
from forgekit.core.prompt_solver import PromptSolver

SolverFactory = Callable[..., Any]
_SOLVERS: dict[str, SolverFactory] = {}


def register_solver(type_name: str, factory: SolverFactory | None = None) -> Any:
    """Register a solver factory under `type_name` (also usable as a decorator).

    The factory is called with the suite's `options` (plus `name`) and returns a Solver.
    """

    def wrap(f: SolverFactory) -> SolverFactory:
        _SOLVERS[type_name] = f
        return f

    return wrap(factory) if factory is not None else wrap


def build_inner(spec: Any, others: dict[str, Any] | None = None) -> Any:
    """The inner solver of a strategy: a Solver, the name of another solver of the suite,
    `{type: prompt, template: ...}`, any registered `{type: ..., ...}`, or a spec the
    quality layer builds itself (`{strategy: ...}`, `{type: direct, ...}`)."""
    if spec is None or hasattr(spec, "solve"):
        return spec
    if isinstance(spec, str):
        if others and spec in others:
            return others[spec]
        raise ConfigError(
            f"inner solver {spec!r} is not a solver defined earlier in the "
            f"suite (defined: {sorted(others or {})})",
            key="solvers",
        )
    if isinstance(spec, dict):
        spec = dict(spec)
        kind = spec.get("type")
        if "strategy" in spec or kind == "direct":
            return spec
        spec.pop("type", None)
        spec.setdefault("name", f"{kind or 'prompt'}-inner")
        if kind in (None, "prompt"):
            return PromptSolver(**spec)
        return build_solver(kind, others=others, **spec)
    raise ConfigError(f"cannot build an inner solver from {spec!r}", key="solvers")


def _strategy_factory(kind: str) -> SolverFactory:
    def make(
        name: str, inner: Any = None, others: dict[str, Any] | None = None, **options: Any
    ) -> Any:
        from forgekit.quality import build

        return build(kind, inner=build_inner(inner, others), name=name, **options)

    return make


def _agent(
    name: str, termination: Any = None, others: dict[str, Any] | None = None, **options: Any
) -> Any:
    from forgekit.agents import Agent, condition_from_config

    if isinstance(termination, dict):
        termination = condition_from_config(termination)
    return Agent(name=name, termination=termination, **options)


def _builtin(type_name: str) -> SolverFactory | None:
    """Factories for the agent and the quality strategies, found on first use."""
    if type_name == "agent":
        return _agent
    try:
        from forgekit.quality import STRATEGIES
    except ImportError as e:  # the quality layer is optional
        raise ConfigError(
            f"solver type {type_name!r}: forgekit.quality failed to import: {e}", key="solvers"
        ) from e
    return _strategy_factory(type_name) if type_name in STRATEGIES else None


def _takes_others(factory: SolverFactory) -> bool:
    try:
        return "others" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def build_solver(type_name: str, *, others: dict[str, Any] | None = None, **options: Any) -> Any:
    """Build a solver of a registered type (or `agent`, or a quality strategy such as
    `best_of_n`); an unknown type is a clear ConfigError. `others` are the suite's
    solvers built so far, which a strategy may name as its `inner`."""
    factory = _SOLVERS.get(type_name) or _builtin(type_name)
    if factory is None:
        from forgekit.quality import STRATEGIES

        known = sorted({*_SOLVERS, "agent", *STRATEGIES})
        raise ConfigError(
            f"unknown solver type {type_name!r}; known: {', '.join(known)}. "
            "Register one with forgekit.evals.register_solver(type, factory).",
            key="solvers",
        )
    if _takes_others(factory):
        options["others"] = others
    return factory(**options)


register_solver("prompt", lambda **o: PromptSolver(**o))
