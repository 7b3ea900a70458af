"""`EvalPlan`: an evaluation as objects — labelled solvers, samples, scorers, models,
epochs, limits, budget — which is what the runner runs. `evaluate(solvers, tasks, ...)`
builds one from Python objects and a YAML suite compiles to one (`Suite.build()`), so
the CLI, the Python API and notebooks share one code path and one identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forgekit.core.errors import ConfigError
from forgekit.core.hashing import stable_hash
from forgekit.core.samples import Sample
from forgekit.evals.identity import eval_identity, sample_hashes, taskset_hash
from forgekit.evals.inputs import SolverEntry, as_scorers, as_solvers, scorer_identity
from forgekit.evals.limits import BudgetSpec, Limits
from forgekit.evals.task import Task, as_limits, as_samples


@dataclass
class EvalPlan:
    """Everything one evaluation runs. Build it with `build_plan` or `Suite.build()`."""

    name: str
    solvers: list[SolverEntry]
    samples: list[Sample]
    scorers: list[Any]
    models: list[str]
    epochs: int = 1
    limits: Limits = field(default_factory=Limits)
    budget: BudgetSpec = field(default_factory=BudgetSpec)
    concurrency: int = 4
    seed: int = 0
    pass_threshold: float = 1.0
    description: str = ""
    source: str | None = None  # the suite file, when compiled from one
    taskset: str | None = None  # the task set file, when the samples came from one
    spec: dict[str, Any] | None = None  # the suite as written, when compiled from one
    _hash: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        labels = [e.label for e in self.solvers]
        dupes = sorted({n for n in labels if labels.count(n) > 1})
        if dupes:
            raise ConfigError(f"solver labels must be unique; repeated: {dupes}",
                              key="solvers")
        self.scorer_configs = [scorer_identity(s) for s in self.scorers]
        self.scorers_hash = stable_hash(self.scorer_configs)
        self.limits_data = self.limits.model_dump(exclude_none=True)
        # (sample hash, input hash) per sample id: the identity and every record's keys
        self.sample_hashes = {s.id: sample_hashes(s) for s in self.samples}
        self.taskset_hash = taskset_hash(
            self.samples, [self.sample_hashes[s.id][0] for s in self.samples]
        )

    def config_hash(self) -> str:
        """The evaluation's identity (see `forgekit.evals.identity`)."""
        if self._hash is None:
            self._hash = eval_identity(
                solvers=[(e.label, e.hash) for e in self.solvers],
                scorers=self.scorer_configs,
                taskset=self.taskset_hash,
                models=self.models,
                epochs=self.epochs,
                limits=self.limits_data,
                seed=self.seed,
                pass_threshold=self.pass_threshold,
            )
        return self._hash

    def base_dir(self) -> Path | None:
        return Path(self.source).parent if self.source else None

    def describe(self) -> dict[str, Any]:
        """The evaluation as JSON data: what `suite.json`, the report and MLflow show."""
        return {
            "name": self.name,
            "description": self.description,
            "models": list(self.models),
            "solvers": {e.label: e.config for e in self.solvers},
            "solver_hashes": {e.label: e.hash for e in self.solvers},
            "scorers": self.scorer_configs,
            "taskset": {
                "path": self.taskset or "(in memory)",
                "samples": len(self.samples),
                "hash": self.taskset_hash,
            },
            "epochs": self.epochs,
            "limits": self.limits_data,
            "budget": self.budget.model_dump(exclude_none=True),
            "concurrency": self.concurrency,
            "seed": self.seed,
            "pass_threshold": self.pass_threshold,
        }


def as_budget(budget: Any) -> BudgetSpec:
    """A whole-evaluation budget from None, a number (dollars), a dict or a BudgetSpec."""
    if budget is None:
        return BudgetSpec()
    if isinstance(budget, BudgetSpec):
        return budget
    if isinstance(budget, (int, float)) and not isinstance(budget, bool):
        return BudgetSpec(usd=float(budget))
    if isinstance(budget, dict):
        return BudgetSpec.model_validate(budget)
    raise ConfigError(
        f"budget must be dollars (a number) or {{'usd': ..., 'tokens': ...}}, got "
        f"{type(budget).__name__}",
        key="budget",
    )


def build_plan(
    solvers: Any,
    tasks: Any,
    *,
    scorers: Any = None,
    models: list[str] | str | None = None,
    epochs: int | None = None,
    limits: Any = None,
    budget: Any = None,
    concurrency: int | None = None,
    name: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    pass_threshold: float = 1.0,
    default_model: str = "local",
) -> EvalPlan:
    """An `EvalPlan` from Python objects (what `evaluate(solvers, tasks, ...)` takes)."""
    task = tasks if isinstance(tasks, Task) else None
    samples, source = as_samples(tasks, limit=limit)
    if scorers is None and task is not None:
        scorers = task.scorers
    if scorers is None:
        raise ConfigError(
            "no scorers: pass scorers=['exact'] (or names, {type: ...} specs, scorer "
            "functions or objects), or give the Task its scorers",
            key="scorers",
        )
    if isinstance(models, str):
        models = [models]
    if models is not None and (not models or not all(isinstance(m, str) for m in models)):
        raise ConfigError(f"models must be a list of model aliases, got {models!r}",
                          key="models")
    if epochs is None:
        epochs = task.epochs if task is not None else 1
    if not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"epochs must be a whole number >= 1, got {epochs!r}", key="epochs")
    if concurrency is not None and (not isinstance(concurrency, int) or concurrency < 1):
        raise ConfigError(f"concurrency must be a whole number >= 1, got {concurrency!r}",
                          key="concurrency")
    if name is None:
        name = task.name if task is not None else (Path(source).stem if source else "eval")
    return EvalPlan(
        name=name,
        solvers=as_solvers(solvers),
        samples=samples,
        scorers=as_scorers(scorers),
        models=list(models or [default_model]),
        epochs=epochs,
        limits=as_limits(limits) if limits is not None else (
            task.limits if task is not None else Limits()),
        budget=as_budget(budget),
        concurrency=concurrency or 4,
        seed=seed,
        pass_threshold=pass_threshold,
        taskset=source,
    )


def compile_suite(suite: Any, *, models: list[str] | None = None,
                  limit: int | None = None) -> EvalPlan:
    """The objects a YAML suite describes (`Suite.build()`)."""
    from forgekit.evals.tasksets import load_samples, resolve_path

    path = resolve_path(suite.taskset.path, base=suite.base_dir())
    samples = load_samples(path, limit=limit or suite.taskset.limit,
                           max_sample_bytes=suite.taskset.max_sample_bytes)
    built: dict[str, Any] = {}
    for spec in suite.solvers:  # in order: a strategy may wrap a solver defined before it
        built[spec.name] = spec.build(built)
    entries = as_solvers(built)
    return EvalPlan(
        name=suite.name,
        description=suite.description,
        solvers=entries,
        samples=samples,
        scorers=as_scorers(list(suite.scorers)),
        models=list(models or suite.models),
        epochs=suite.epochs,
        limits=suite.limits,
        budget=suite.budget,
        concurrency=suite.concurrency,
        seed=suite.seed,
        pass_threshold=suite.pass_threshold,
        source=suite.source,
        taskset=str(path),
        spec=suite.model_dump(mode="json"),
    )
