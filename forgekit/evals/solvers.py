"""Solvers an eval suite can name: every component of kind "solver" (the prompt-template
solver, `type: agent`, the quality strategies `type: best_of_n`, ...; see
`forgekit.core.component`), and factories for any other solver type (`register_solver`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from forgekit.core.component import build_component, registered_components
from forgekit.core.errors import ConfigError
from forgekit.core.prompt_solver import PromptSolver  # noqa: F401 - re-exported

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
    or a solver config (``{type: prompt, template: ...}``, ``{type: best_of_n, ...}``,
    any registered type; the older ``{strategy: ...}`` and ``{type: direct}`` too)."""
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
        if "strategy" in spec:
            spec["type"] = spec.pop("strategy")
        kind = spec.pop("type", None) or "prompt"
        if kind in ("prompt", "direct") or kind in _SOLVERS:
            spec.setdefault("name", f"{kind}-inner")
        return build_solver(kind, others=others, **spec)
    raise ConfigError(f"cannot build an inner solver from {spec!r}", key="solvers")


def _takes_others(factory: SolverFactory) -> bool:
    try:
        return "others" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def build_solver(type_name: str, *, others: dict[str, Any] | None = None, **options: Any) -> Any:
    """Build a solver of a component type (`prompt`, `agent`, `best_of_n`, ... any class
    registered with kind "solver") or of a factory registered with `register_solver`; an
    unknown type is a clear ConfigError listing the known ones. `others` are the suite's
    solvers built so far, which a strategy may name as its `inner`."""
    factory = _SOLVERS.get(type_name)
    if factory is not None:
        if _takes_others(factory):
            options["others"] = others
        return factory(**options)
    if "inner" in options:
        options["inner"] = build_inner(options["inner"], others)
    try:
        return build_component({"type": type_name, **options}, kind="solver", where="solvers")
    except ConfigError as e:
        if "unknown solver type" in str(e):
            known = sorted({*_SOLVERS, *registered_components("solver")})
            raise ConfigError(
                f"unknown solver type {type_name!r}; known: {', '.join(known)}. "
                "Register one with forgekit.evals.register_solver(type, factory), or "
                "subclass forgekit.core.component.Component with kind='solver'.",
                key="solvers",
            ) from None
        raise
