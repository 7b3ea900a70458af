"""Eval suites as YAML: a task set, solvers, models, scorers, epochs, limits, budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forgekit.core.hashing import stable_hash
from forgekit.evals.limits import BudgetSpec, Limits

SUITE_SCHEMA_VERSION = 1


class TaskSetRef(BaseModel):
    """Where the samples come from."""

    model_config = ConfigDict(extra="forbid")

    path: str
    limit: int | None = Field(default=None, ge=1)
    # a sample larger than this (bytes of its JSON) is an error naming it
    max_sample_bytes: int = Field(default=1_000_000, ge=1)


class SolverSpec(BaseModel):
    """A solver in a suite: a prompt template (`type: prompt`) or a registered type
    (an agent config, a quality strategy) built with `options`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    type: str = "prompt"
    template: str | None = None
    system: str | None = None
    few_shot: list[dict[str, str]] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fits_type(self) -> SolverSpec:
        if self.type == "prompt":
            if self.options:
                raise ValueError(
                    "a prompt solver takes template/system/few_shot/params, not options"
                )
        elif self.template or self.system or self.few_shot:
            raise ValueError(
                f"template/system/few_shot are for type 'prompt'; put settings "
                f"of type {self.type!r} under options"
            )
        return self

    def build(self, others: dict[str, Any] | None = None) -> Any:
        """The solver; `others` (the suite's solvers built before this one) may be named
        as a strategy's `inner`."""
        from forgekit.evals.solvers import PromptSolver, build_solver

        if self.type == "prompt":
            return PromptSolver(
                self.template or "{input}",
                system=self.system,
                name=self.name,
                few_shot=self.few_shot,
                params=self.params,
            )
        return build_solver(self.type, name=self.name, others=others, **self.options)


class Suite(BaseModel):
    """A whole eval suite (the YAML file in `evals/`)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SUITE_SCHEMA_VERSION
    name: str
    description: str = ""
    taskset: TaskSetRef
    models: list[str] = Field(default_factory=lambda: ["local"], min_length=1)
    solvers: list[SolverSpec] = Field(min_length=1)
    scorers: list[str | dict[str, Any]] = Field(min_length=1)
    epochs: int = Field(default=1, ge=1)
    limits: Limits = Field(default_factory=Limits)
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    concurrency: int = Field(default=4, ge=1)
    seed: int = 0
    # a sample "passes" (for pass@k) when its primary score is at least this
    pass_threshold: float = 1.0

    # the file this suite was read from (not part of the config)
    source: str | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _taskset_shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("taskset"), str):
            data = {**data, "taskset": {"path": data["taskset"]}}
        return data

    @model_validator(mode="after")
    def _unique_names(self) -> Suite:
        names = [s.name for s in self.solvers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"solver names must be unique; repeated: {dupes}")
        return self

    def config_hash(self) -> str:
        """Hash of the suite as written (the run's identity is `build().config_hash()`:
        the objects' configs and the task set's contents)."""
        return stable_hash(self.model_dump(mode="json"))

    def base_dir(self) -> Path | None:
        return Path(self.source).parent if self.source else None

    def build(self, *, models: list[str] | None = None, limit: int | None = None) -> Any:
        """The objects this suite describes (solvers, samples, scorers, settings) as an
        `EvalPlan`: exactly what `evaluate(solvers, tasks, ...)` runs from Python."""
        from forgekit.evals.objects import compile_suite

        return compile_suite(self, models=models, limit=limit)


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite YAML; errors name the file, line and key."""
    from forgekit.core.yamlfile import load_yaml, validate
    from forgekit.evals.tasksets import resolve_path

    p = resolve_path(path)
    doc = load_yaml(p)
    suite = validate(Suite, doc)
    suite.source = str(p)
    # scorers are checked now, so a typo fails before any model call
    from forgekit.core.errors import ConfigError
    from forgekit.evals.scorers import build_scorer

    for i, spec in enumerate(suite.scorers):
        try:
            build_scorer(spec)
        except ConfigError as e:
            raise doc.error(e.detail, ("scorers", i)) from None
    # and the solvers (in order: a strategy may wrap one defined before it)
    built: dict[str, Any] = {}
    for i, solver in enumerate(suite.solvers):
        try:
            built[solver.name] = solver.build(built)
        except ConfigError as e:
            where = ("solvers", i, "type") if "type" in e.detail else ("solvers", i)
            raise doc.error(e.detail, where) from None
    return suite
