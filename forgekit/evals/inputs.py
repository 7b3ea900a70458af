"""What `evaluate` accepts, turned into what the runner runs: solvers (objects with
``solve``, plain functions, or a ``{label: solver}`` dict) become labelled `SolverEntry`s
with their config and its hash; scorers (names, ``{type: ...}`` specs, functions, scorer
objects) become bound scorers. Wrong types are a `ConfigError` that says what fits."""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass
from typing import Any

from forgekit.core.component import config_of
from forgekit.core.context import RunContext
from forgekit.core.errors import ConfigError
from forgekit.core.hashing import stable_hash
from forgekit.core.samples import Answer, Sample

ACCEPTED_SOLVERS = (
    "a solver object (anything with an async solve(sample, ctx): Agent, BestOfN and the "
    "other strategies, PromptSolver, a RAG pipeline, your own class), a function "
    "fn(sample) or fn(sample, ctx) returning str or Answer (sync or async), or a list "
    "or {label: solver} dict of these"
)
ACCEPTED_SCORERS = (
    "a scorer name ('exact', 'numeric', ...), a {'type': name, **params} dict, a scorer "
    "function (sample, answer, ctx) -> Score | float | bool, a scorer object, or a list "
    "of these"
)


def as_answer(out: Any) -> Answer:
    """A solver's return value as an `Answer` (a str is its text)."""
    if isinstance(out, Answer):
        return out
    if out is None:
        return Answer()
    return Answer(text=out if isinstance(out, str) else str(out))


class FunctionSolver:
    """A plain function as a solver: ``fn(sample)`` or ``fn(sample, ctx)``, sync or async,
    returning a str or an `Answer`. Its identity is its name and the hash of its source,
    so editing the function re-runs it (see `forgekit.core.component.function_config`).

    Example:
        >>> solver = FunctionSolver(lambda s: "42")
    """

    def __init__(self, fn: Any, name: str | None = None) -> None:
        self.fn = fn
        self.name = name or function_label(fn)
        self._takes_ctx = _takes_ctx(fn)

    def config(self) -> dict[str, Any]:
        return config_of(self.fn)

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        out = self.fn(sample, ctx) if self._takes_ctx else self.fn(sample)
        if inspect.isawaitable(out):
            out = await out
        return as_answer(out)

    def __repr__(self) -> str:
        return f"FunctionSolver({self.name})"


def function_label(fn: Any) -> str:
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return "lambda" if name == "<lambda>" else name


def _takes_ctx(fn: Any) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.name == "ctx" for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


@dataclass
class SolverEntry:
    """One solver of an evaluation: its label (the table's `solver` column), the object,
    its config and the hash that keys its results."""

    label: str
    solver: Any  # a Solver, or an object whose solve returns a str
    config: dict[str, Any]
    hash: str

    @property
    def name(self) -> str:
        return self.label

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        out = self.solver.solve(sample, ctx)
        if inspect.isawaitable(out):
            out = await out
        return as_answer(out)


def _as_solver(obj: Any, where: str) -> Any:
    if isinstance(obj, type):
        raise ConfigError(
            f"{where}: {obj.__name__} is a class; pass an instance ({obj.__name__}(...))",
            key=where,
        )
    if callable(getattr(obj, "solve", None)):
        return obj
    if callable(obj) and not isinstance(obj, (str, bytes, dict, list)):
        return FunctionSolver(obj)
    raise ConfigError(f"{where}: got {type(obj).__name__}; a solver is {ACCEPTED_SOLVERS}",
                      key=where)


def _label_of(obj: Any) -> str:
    if isinstance(obj, FunctionSolver):
        return obj.name
    name = getattr(obj, "name", None)
    if isinstance(name, str) and name:
        return name
    tname = getattr(type(obj), "component_type", None)
    return tname or type(obj).__name__


def as_solvers(solvers: Any) -> list[SolverEntry]:
    """Labelled solver entries from one solver, a list of them or a ``{label: solver}``
    dict. Labels are the dict keys, else the solver's ``name``, else its type; repeated
    labels get ``-2``, ``-3``, ..."""
    if solvers is None:
        raise ConfigError(f"no solvers given: pass {ACCEPTED_SOLVERS}", key="solvers")
    if isinstance(solvers, dict):
        if not solvers:
            raise ConfigError("solvers: the dict is empty", key="solvers")
        pairs = []
        for label, obj in solvers.items():
            if not isinstance(label, str) or not label:
                raise ConfigError(f"solvers: labels must be non-empty strings, got {label!r}",
                                  key="solvers")
            pairs.append((label, _as_solver(obj, f"solvers[{label!r}]")))
    elif isinstance(solvers, (list, tuple)):
        if not solvers:
            raise ConfigError("solvers: the list is empty", key="solvers")
        objs = [_as_solver(s, f"solvers[{i}]") for i, s in enumerate(solvers)]
        pairs = []
        used: dict[str, int] = {}
        for obj in objs:
            label = _label_of(obj)
            used[label] = used.get(label, 0) + 1
            pairs.append((label if used[label] == 1 else f"{label}-{used[label]}", obj))
    else:
        obj = _as_solver(solvers, "solvers")
        pairs = [(_label_of(obj), obj)]
    entries = []
    for label, obj in pairs:
        cfg = solver_config(obj)
        entries.append(SolverEntry(label, obj, cfg, stable_hash(cfg)))
    return entries


def solver_config(obj: Any) -> dict[str, Any]:
    """A solver's config for its identity: `config_of` (components, objects with
    ``config()``, functions); for a user class without ``config()``, its class, the hash
    of the class's source and its public attributes (those that are data or have a
    config; others by type), so editing the class or its settings re-runs it."""
    try:
        return config_of(obj)
    except ConfigError:
        pass
    from forgekit.core.component import to_data

    cls = type(obj)
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        source = cls.__qualname__
    state: dict[str, Any] = {}
    for key, value in sorted(vars(obj).items()) if hasattr(obj, "__dict__") else []:
        if key.startswith("_"):
            continue
        try:
            state[key] = to_data(value, where=key)
        except ConfigError:
            state[key] = f"<{type(value).__module__}.{type(value).__qualname__}>"
    return {
        "type": "object",
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "source_hash": hashlib.sha256(source.encode("utf-8")).hexdigest()[:16],
        "state": state,
    }


def as_scorers(scorers: Any) -> list[Any]:
    """Bound scorers (`forgekit.evals.scorers.BoundScorer`) from names, specs, functions
    or scorer objects; one or a list."""
    from forgekit.evals.scorers import build_scorer

    if scorers is None:
        raise ConfigError(f"no scorers given: pass scorers= {ACCEPTED_SCORERS}",
                          key="scorers")
    items = list(scorers) if isinstance(scorers, (list, tuple)) else [scorers]
    if not items:
        raise ConfigError(f"scorers: the list is empty; give {ACCEPTED_SCORERS}",
                          key="scorers")
    out = []
    for i, spec in enumerate(items):
        if not (isinstance(spec, (str, dict)) or callable(spec)):
            raise ConfigError(
                f"scorers[{i}]: got {type(spec).__name__}; a scorer is {ACCEPTED_SCORERS}",
                key="scorers",
            )
        out.append(build_scorer(spec))
    names = [getattr(s, "name", None) for s in out]
    dupes = sorted({n for n in names if n is not None and names.count(n) > 1})
    if dupes:
        raise ConfigError(f"scorers: repeated name(s) {dupes}; give each a 'name'",
                          key="scorers")
    return out


def scorer_identity(scorer: Any) -> dict[str, Any]:
    """A scorer's config for the run identity. A scorer written outside forgekit also
    hashes its function's source, so editing it re-scores; forgekit's own scorers are
    known by name and params only (an upgrade does not re-score a finished run)."""
    cfg = dict(config_of(scorer))
    fn = getattr(scorer, "fn", None)
    if fn is not None and not str(getattr(fn, "__module__", "")).startswith("forgekit."):
        cfg["function"] = config_of(fn)
    return cfg
