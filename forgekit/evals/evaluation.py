"""`evaluate`: run solvers on tasks and score them, from objects or from a YAML suite.

    fk.evaluate({"agent": agent, "best": best}, "datasets/arithmetic/arithmetic.jsonl",
                scorers=["numeric"], limit=5)
    fk.evaluate(lambda s: "42", [{"id": "a", "input": "6*7?", "target": "42"}],
                scorers=["exact"])
    fk.evaluate("evals/main.yaml", limit=5)          # a suite compiles to the same objects
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forgekit.core.errors import ConfigError
from forgekit.core.sync import run_sync
from forgekit.evals.inputs import ACCEPTED_SOLVERS
from forgekit.evals.limits import check_limit
from forgekit.evals.objects import EvalPlan, build_plan
from forgekit.evals.suite import Suite, load_suite
from forgekit.evals.task import ACCEPTED_TASKS, looks_like_suite

if TYPE_CHECKING:
    from forgekit.models.gateway import Gateway


def _is_gateway(obj: Any) -> bool:
    return callable(getattr(obj, "acomplete", None))


def _is_suite_file(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike)) and Path(obj).suffix.lower() in (".yaml", ".yml")


def plan_of(
    solvers: Any,
    tasks: Any = None,
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
    """The `EvalPlan` that `evaluate` runs for these arguments (a suite is compiled)."""
    check_limit(limit)
    if isinstance(solvers, EvalPlan):
        return solvers
    if isinstance(solvers, Suite) or (tasks is None and _is_suite_file(solvers)):
        extra = {k: v for k, v in [("scorers", scorers), ("epochs", epochs),
                                   ("limits", limits), ("budget", budget),
                                   ("concurrency", concurrency), ("name", name)]
                 if v is not None}
        if extra:
            raise ConfigError(
                f"{', '.join(extra)}: set these in the suite file when running a suite "
                "(evaluate(suite) takes models= and limit=), or pass solvers and tasks",
                key=next(iter(extra)),
            )
        if not isinstance(solvers, Suite) and not looks_like_suite(Path(solvers)):
            raise ConfigError(
                f"{os.fspath(solvers)!r} is a task set, not an eval suite (it has no "
                "'solvers:'): pass the solvers first: evaluate(solver, "
                f"{os.fspath(solvers)!r}, scorers=[...])",
                key="solvers",
            )
        suite = solvers if isinstance(solvers, Suite) else load_suite(solvers)
        model_list = [models] if isinstance(models, str) else models
        return suite.build(models=model_list, limit=limit)
    if tasks is None:
        if isinstance(solvers, (str, os.PathLike)):
            raise ConfigError(
                f"{os.fspath(solvers)!r} is not an eval suite (.yaml): to evaluate a task "
                "set, pass the solvers first: evaluate(solver, "
                f"{os.fspath(solvers)!r}, scorers=[...])",
                key="solvers",
            )
        raise ConfigError(
            f"no tasks given: evaluate(solvers, tasks, scorers=...) takes tasks as "
            f"{ACCEPTED_TASKS}",
            key="tasks",
        )
    if isinstance(solvers, (str, os.PathLike)):
        raise ConfigError(
            f"solvers: got the path {os.fspath(solvers)!r}; a solver is {ACCEPTED_SOLVERS}. "
            "(A suite file runs alone: evaluate('evals/main.yaml').)",
            key="solvers",
        )
    return build_plan(
        solvers,
        tasks,
        scorers=scorers,
        models=models,
        epochs=epochs,
        limits=limits,
        budget=budget,
        concurrency=concurrency,
        name=name,
        limit=limit,
        seed=seed,
        pass_threshold=pass_threshold,
        default_model=default_model,
    )


async def aevaluate(
    solvers: Any,
    tasks: Any = None,
    *,
    scorers: Any = None,
    models: list[str] | str | None = None,
    epochs: int | None = None,
    limits: Any = None,
    budget: Any = None,
    concurrency: int | None = None,
    name: str | None = None,
    out_dir: str | Path | None = None,
    limit: int | None = None,
    seed: int = 0,
    pass_threshold: float = 1.0,
    gateway: Gateway | None = None,
    progress: bool = True,
    retry_errors: bool = False,
    wait: bool = False,
    workers: int = 1,
    executor: Any = None,
    address: str | None = None,
) -> Any:
    """Async form of `evaluate` (same arguments)."""
    from forgekit.evals.runner import Runner

    if gateway is None and _is_gateway(tasks):  # the older evaluate(suite, gateway) form
        gateway, tasks = tasks, None
    # arguments are checked before a gateway (and its local model) is set up
    plan = plan_of(
        solvers, tasks, scorers=scorers, models=models, epochs=epochs, limits=limits,
        budget=budget, concurrency=concurrency, name=name, limit=limit, seed=seed,
        pass_threshold=pass_threshold, default_model=_default_alias(gateway),
    )
    if gateway is None:
        from forgekit.models import Gateway

        gateway = Gateway()
    runner = Runner(plan, gateway, out_dir=out_dir, progress=progress,
                    retry_errors=retry_errors, wait=wait, workers=workers,
                    executor=executor, address=address)
    return await runner.run()


def _default_alias(gateway: Gateway | None) -> str:
    """The model alias solvers run on when `models` is not given: the gateway's (or the
    project config's) default."""
    cfg = getattr(gateway, "config", None)
    if cfg is None:
        from forgekit.core.config import load_config

        try:
            cfg = load_config()
        except ConfigError:
            return "local"
    return getattr(getattr(cfg, "models", None), "default", None) or "local"


def evaluate(
    solvers: Any,
    tasks: Any = None,
    *,
    scorers: Any = None,
    models: list[str] | str | None = None,
    epochs: int | None = None,
    limits: Any = None,
    budget: Any = None,
    concurrency: int | None = None,
    name: str | None = None,
    out_dir: str | Path | None = None,
    limit: int | None = None,
    seed: int = 0,
    pass_threshold: float = 1.0,
    gateway: Gateway | None = None,
    progress: bool = True,
    retry_errors: bool = False,
    wait: bool = False,
    workers: int = 1,
    executor: Any = None,
    address: str | None = None,
) -> Any:
    """Run solvers on tasks, score every answer, and return the `EvalResults` (one row
    per model x solver x sample x epoch; `summary()`, `compare()`). Works in scripts and
    inside Jupyter alike; re-running resumes (see `forgekit.evals.identity`).

    Args:
        solvers: a solver object (`Agent`, `BestOfN` and the other strategies,
            `PromptSolver`, a RAG pipeline, any object with ``async solve(sample, ctx)``),
            a function ``fn(sample)`` / ``fn(sample, ctx)`` returning str or `Answer`
            (sync or async), a list of these, or a ``{label: solver}`` dict. Or a YAML
            suite path / `Suite`, run alone (then only `models`, `limit`, `out_dir`,
            `gateway`, `progress` and `retry_errors` apply).
        tasks: a task set file (.jsonl/.csv/.parquet/.yaml), a list of `Sample`s or dicts,
            a polars or pandas DataFrame, or a `Task` (which may bring scorers, epochs and
            limits).
        scorers: names (``"exact"``, ``"numeric"``, ...), ``{"type": ..., **params}``
            specs, scorer functions or scorer objects.
        models: model aliases to run every solver on (default: the project's default).
        epochs: runs per sample. limits: per-sample ``{"steps", "tokens", "time_s"}``.
        budget: dollars (or ``{"usd", "tokens"}``) for the whole evaluation.
        concurrency: samples in flight per model. name: the evaluation's name.
        out_dir: where results go (default ``<project>/.forgekit/evals/<name>-<hash>``).
        limit: only the first `limit` samples. seed: the base seed of every sample.
        gateway: the `Gateway` (default: one from the project's forgekit.yaml).
        retry_errors: run again the samples that ended failed (errors, limits);
            transient provider failures are run again without it.
        wait: when another process is running this evaluation (same folder), wait for
            it instead of raising `EvalLocked`.
        workers: run the samples in this many processes on this machine (the results
            are those of one process; `forgekit.evals.executors`).
        executor: ``"processes"``, ``"ray"`` (Ray actors; `address`: an existing
            cluster) or an executor object; default: this process.

    Example:
        >>> res = evaluate(lambda s: "42", [{"id": "a", "input": "6*7?", "target": "42"}],
        ...                scorers=["exact"], progress=False)       # doctest: +SKIP
        >>> res.summary()["accuracy"][0]                             # doctest: +SKIP
        1.0
    """
    return run_sync(
        aevaluate(
            solvers, tasks, scorers=scorers, models=models, epochs=epochs, limits=limits,
            budget=budget, concurrency=concurrency, name=name, out_dir=out_dir, limit=limit,
            seed=seed, pass_threshold=pass_threshold, gateway=gateway, progress=progress,
            retry_errors=retry_errors, wait=wait, workers=workers, executor=executor,
            address=address,
        )
    )
