"""The scorer registry, the `@scorer` decorator and `BoundScorer` (a scorer with its
parameters). The built-in scorers (`text_scorers`, `judge`, `code_scorer`) register
here; `forgekit.evals.scorers` builds scorers from names and specs.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from forgekit.core.component import register_component
from forgekit.core.context import RunContext
from forgekit.core.errors import ConfigError
from forgekit.core.samples import Answer, Sample, Score

ScorerFn = Callable[..., Any]
_REGISTRY: dict[str, ScorerFn] = {}


def scorer(name: str | None = None) -> Callable[[ScorerFn], ScorerFn]:
    """Register a scorer under `name` (default: the function's name).

    Example:
        >>> @scorer("shouts")
        ... def shouts(sample, answer, ctx=None):
        ...     return answer.text.isupper()
    """

    def wrap(fn: ScorerFn) -> ScorerFn:
        type_name = name or fn.__name__
        _REGISTRY[type_name] = fn
        # a marker on the user's function (plain functions declare no attributes)
        fn.scorer_name = type_name  # type: ignore[attr-defined]
        # a component type too: {type: numeric, tolerance: 0.01} builds it anywhere
        factory = _factory(type_name)
        factory.__module__ = fn.__module__  # where the scorer is defined, not this module
        register_component(factory, type=type_name, kind="scorer", replace=True)
        return fn

    return wrap


def _factory(type_name: str) -> Callable[..., BoundScorer]:
    def make(name: str | None = None, **params: Any) -> BoundScorer:
        return bind_scorer(type_name, params, name or type_name)

    make.__qualname__ = make.__name__ = f"scorer_{type_name}"
    return make


def bind_scorer(kind: str | None, params: dict[str, Any], label: str | None = None) -> BoundScorer:
    """The registered scorer `kind` with `params` (checked against its signature)."""
    if kind not in _REGISTRY:
        raise ConfigError(
            f"unknown scorer {kind!r}; registered: {', '.join(sorted(_REGISTRY))}. "
            "Register your own with @forgekit.evals.scorer('name').",
            key="scorers",
        )
    fn = _REGISTRY[kind]
    sig = inspect.signature(fn)
    if not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        unknown = [k for k in params if k not in sig.parameters]
        if unknown:
            raise ConfigError(
                f"scorer {kind!r} has no parameter(s) {unknown}; it takes "
                f"{[k for k in sig.parameters if k not in ('sample', 'answer', 'ctx')]}",
                key="scorers",
            )
    return BoundScorer(kind, fn, params, label or kind)


class BoundScorer:
    """A registered scorer with its params, callable as `await s(sample, answer, ctx)`.

    Its config is ``{type, version, name (when it differs from type), **params}``, which
    ``build_component`` (or `build_scorer`) turns back into an equal scorer. A scorer
    made from an unregistered function is identified by the function (its reference, or
    its source when it was defined in a notebook cell)."""

    def __init__(self, name: str, fn: ScorerFn, params: dict[str, Any], label: str) -> None:
        self.type = name
        self.name = label
        self.fn = fn
        self.params = params

    def config(self) -> dict[str, Any]:
        from forgekit.core.component import component_kind, function_config, to_data

        if component_kind(self.type) != "scorer" or _REGISTRY.get(self.type) is not self.fn:
            return {**function_config(self.fn), "label": self.name}
        out: dict[str, Any] = {"type": self.type, "version": 1}
        if self.name != self.type:
            out["name"] = self.name
        return {**out, **to_data(self.params, where=f"scorers.{self.name}")}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoundScorer):
            return NotImplemented
        return self.config() == other.config()

    def __hash__(self) -> int:
        return hash(self.type)

    async def __call__(self, sample: Sample, answer: Answer, ctx: RunContext | None = None) -> Score:
        try:
            out = self.fn(sample, answer, ctx, **self.params)
            if inspect.isawaitable(out):
                out = await out
        except Exception as e:  # a scorer crash is a scoring error, never a silent 0
            return Score(
                scorer=self.name, value=None, answer=answer.text, error=f"{type(e).__name__}: {e}"
            )
        if isinstance(out, Score):
            if out.scorer != self.name:
                out = out.model_copy(update={"scorer": self.name})
            return out
        if isinstance(out, (bool, int, float)):
            return Score(
                scorer=self.name,
                value=float(out),
                answer=answer.text,
                explanation=f"{self.type} returned {out!r}",
            )
        return Score(
            scorer=self.name,
            value=None,
            answer=answer.text,
            error=f"scorer returned {type(out).__name__}, expected Score/float/bool",
        )


async def to_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run blocking scorer work (a subprocess) off the event loop."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))
