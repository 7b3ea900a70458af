"""`forgekit eval SUITE.yaml [--model ALIAS ...] [--limit N] [--out DIR]`: run an eval
suite, print the comparison table, write the HTML report, log to MLflow, say where
everything is. `main_job()` is the same for the README's first command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forgekit.models import Gateway

log = logging.getLogger(__name__)
MAIN_SUITE = "evals/main.yaml"


def run_suite(
    suite: str | Path,
    *,
    models: list[str] | None = None,
    limit: int | None = None,
    out_dir: str | Path | None = None,
    gateway: Gateway | None = None,
    mlflow: bool = True,
    progress: bool = True,
    stream: Any = None,
    retry_errors: bool = False,
    wait: bool = False,
    workers: int = 1,
    executor: str | None = None,
    address: str | None = None,
) -> Any:
    """Run a suite end to end (evaluate, plot, report, MLflow) and print where things are.

    Returns the EvalResults (with `.tracking` filled when MLflow logging worked).
    """
    from forgekit.evals import evaluate, load_suite

    stream = stream or sys.stdout
    owns_gateway = gateway is None
    if gateway is None:
        from forgekit.models import Gateway

        gateway = Gateway()
    try:
        spec = load_suite(suite)
        results = evaluate(
            spec,
            gateway,
            out_dir=out_dir,
            models=models,
            limit=limit,
            progress=progress,
            retry_errors=retry_errors,
            wait=wait,
            workers=workers,
            executor=executor,
            address=address,
        )
    finally:
        if owns_gateway and hasattr(gateway, "close"):
            gateway.close()
    plot = results.plot()
    if mlflow:  # the report, MLflow, and the report again naming the MLflow run
        from forgekit.tracking.autolog import track_evaluation

        track_evaluation(results, getattr(gateway, "config", None))
        report = (results.out_dir or Path.cwd()) / "report.html"
    else:
        report = results.report()
    print(results.comparison_table(), file=stream)
    print("", file=stream)
    print(f"results:      {results.out_dir / 'results.parquet'}", file=stream)
    print(f"report:       {report}", file=stream)
    print(f"plot:         {plot}", file=stream)
    print(f"trajectories: {results.out_dir / 'runs'}", file=stream)
    t = results.tracking
    if t.get("mlflow_run_id"):
        print(
            f"mlflow:       run {t['mlflow_run_id']} in experiment "
            f"{t.get('mlflow_experiment')!r} at {t.get('mlflow_uri')} "
            "(browse: forgekit ui)",
            file=stream,
        )
    elif mlflow:
        print(f"mlflow:       not logged ({t.get('error')})", file=stream)
    return results


def main_job(
    out_dir: str | Path | None = None, *, limit: int | None = None, gateway: Gateway | None = None
) -> Any:
    """The README's main job: `evals/main.yaml` on the embedded local model."""
    from forgekit.evals.tasksets import resolve_path

    return run_suite(resolve_path(MAIN_SUITE), out_dir=out_dir, limit=limit, gateway=gateway)


# exit codes of `forgekit eval` besides 0 (ok) and 2 (bad input / config)
EXIT_ALL_FAILED = 1
EXIT_STOPPED = 3  # stopped early by the budget: samples were not run


def run(args: argparse.Namespace) -> int:
    if args.dry_run:
        from forgekit.evals import plan

        p = plan(args.suite, models=args.model or None, limit=args.limit, out_dir=args.out)
        print(p)
        return 1 if p.within_budget is False else 0
    results = run_suite(
        args.suite,
        models=args.model or None,
        limit=args.limit,
        out_dir=args.out,
        mlflow=not args.no_mlflow,
        progress=not args.no_progress,
        retry_errors=args.retry_errors,
        wait=args.wait,
        workers=args.workers,
        executor=args.executor,
        address=args.address,
    )
    if results.stopped:
        print(f"stopped: {results.stopped}; {results.not_run} sample run(s) not started",
              file=sys.stderr)
        return EXIT_STOPPED
    failed = results.df.filter(results.df["status"] == "failed").height
    return EXIT_ALL_FAILED if failed and failed == results.df.height else 0


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="run an eval suite (YAML) and compare its solvers/models",
        description="Run an eval suite; re-running resumes where it stopped.",
    )
    p.add_argument(
        "suite", nargs="?", default=MAIN_SUITE, help=f"the suite file (default: {MAIN_SUITE})"
    )
    p.add_argument(
        "--model",
        action="append",
        metavar="ALIAS",
        help="run on this model alias instead of the suite's (repeatable)",
    )
    p.add_argument(
        "--limit", type=positive_int, help="only the first N samples of the task set (N >= 1)"
    )
    p.add_argument("--out", help="results directory (default: .forgekit/evals/<name>-<hash>)")
    p.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--retry-errors",
        action="store_true",
        help="run again the samples that ended failed (errors, limits); transient provider "
        "failures are retried without it",
    )
    p.add_argument(
        "--wait",
        action="store_true",
        help="if another process is running this eval, wait for it instead of exiting",
    )
    p.add_argument(
        "--workers", type=positive_int, default=1, metavar="N",
        help="run the samples in N processes on this machine (with --executor ray: N actors)",
    )
    p.add_argument(
        "--executor", choices=["local", "processes", "ray"], default=None,
        help="where samples run: this process (the default), worker processes, or Ray "
        "actors (needs forgekit[ray])",
    )
    p.add_argument("--address", help="with --executor ray: an existing cluster's address")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (cells, samples, calls, projected tokens and cost, whether "
        "the budget covers it) and exit without calling a model",
    )
    p.set_defaults(func=run)
