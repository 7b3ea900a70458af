"""Evaluations in MLflow: a parent run per evaluation, a child run per model x solver cell.

The eval layer (or the CLI / notebook calling it) hands over plain data: the suite config,
and per cell its params, metrics, results table, artifact files and trajectories. The
parent gets the config, the overall metrics and a table of all cells, so MLflow's compare
view over the child runs is the comparison dashboard.

    with EvalTracker("gsm8k-smoke", config=suite_config) as tracker:
        tracker.log_cell({"model": "local", "solver": "plain"},
                         {"accuracy": 0.4, "ci_low": 0.2, "ci_high": 0.6, "cost_usd": 0.0},
                         table=results_df, trajectories=paths)

Like every tracking function, nothing here raises: a failing store gives one
`TrackingWarning` and the methods return None from then on.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forgekit.core.hashing import stable_hash
from forgekit.tracking.mapping import MAX_PARAM_LEN, key
from forgekit.tracking.session import (
    ensure_experiment,
    mlflow_session,
    tracking_settings,
    warn_skipped,
)

if TYPE_CHECKING:
    from forgekit.core.config import ProjectConfig
    from forgekit.trajectory import Trajectory

log = logging.getLogger(__name__)
EVAL_ID_TAG = "forgekit.eval_id"
CELL_ID_TAG = "forgekit.cell_id"
KIND_TAG = "forgekit.kind"
MAX_CONFIG_PARAMS = 100


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys; lists and other values kept whole."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: value} if prefix else {}


def _param_value(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, default=str, sort_keys=True)
    return s if len(s) <= MAX_PARAM_LEN else s[: MAX_PARAM_LEN - 3] + "..."


def _numeric(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in (metrics or {}).items():
        if isinstance(v, bool) or isinstance(v, (int, float)):
            if not (isinstance(v, float) and math.isinf(v)):
                out[key(k)] = float(v)
    return out


def _to_pandas(table: Any) -> Any:
    if hasattr(table, "to_pandas"):  # polars, pyarrow
        return table.to_pandas()
    if isinstance(table, (list, dict)):
        import pandas as pd

        return pd.DataFrame(table)
    return table


class EvalTracker:
    """Track one evaluation: `log_cell` per model x solver cell, then `finish`.

    Args:
        name: the evaluation's name (the parent run's name).
        config: the suite config (flattened into params, hashed, stored as config.json).
        eval_id: identifies the evaluation across re-runs (default: hash of name and
            config); a resumed evaluation reuses its parent run and its cells' runs.
        params: extra params of the parent run.
        tags: extra tags of the parent run.
        project_config, uri, experiment: where to log (defaults: forgekit.yaml / env).
    """

    def __init__(
        self,
        name: str,
        *,
        config: dict[str, Any] | None = None,
        eval_id: str | None = None,
        params: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        project_config: ProjectConfig | None = None,
        uri: str | None = None,
        experiment: str | None = None,
    ) -> None:
        self.name = name
        self.config = dict(config or {})
        self.config_hash = stable_hash(self.config)
        self.eval_id = eval_id or stable_hash({"name": name, "config": self.config})
        self.params = dict(params or {})
        self.tags = dict(tags or {})
        self.run_id: str | None = None  # the parent MLflow run
        self.cells: dict[str, str] = {}  # cell id -> MLflow run id
        self._rows: dict[str, dict[str, Any]] = {}
        self._experiment_id: str | None = None
        self._failed = False
        try:
            self.enabled, self.uri, self.experiment = tracking_settings(
                project_config, uri, experiment
            )
        except Exception as e:
            warn_skipped("forgekit.yaml", e)
            self.enabled, self.uri, self.experiment = False, "", ""

    # -- plumbing --------------------------------------------------------------------------

    def _run(self, fn: Callable[[Any, str, str], str]) -> str | None:
        """`fn(client, parent run id, experiment id)` in a session, the parent run opened
        first; None when tracking is off or fails."""
        if not self.enabled or self._failed:
            return None
        try:
            with mlflow_session(self.uri) as client:
                if self._experiment_id is None:
                    self._experiment_id = ensure_experiment(client, self.uri, self.experiment)
                if self.run_id is None:
                    self.run_id = self._open_parent(client)
                return fn(client, self.run_id, self._experiment_id)
        except Exception as e:  # tracking must never break an evaluation
            self._failed = True
            warn_skipped(self.uri, e)
            return None

    def _find(self, client: Any, filters: list[str]) -> Any | None:
        found = client.search_runs(
            [self._experiment_id], filter_string=" and ".join(filters), max_results=1
        )
        return found[0] if found else None

    def _open_parent(self, client: Any) -> str:
        from mlflow.entities import Param

        run = self._find(
            client,
            [f"tags.`{EVAL_ID_TAG}` = '{self.eval_id}'", f"tags.`{KIND_TAG}` = 'evaluation'"],
        )
        if run is not None:  # a resumed evaluation
            client.update_run(run.info.run_id, status="RUNNING")
            return run.info.run_id
        import forgekit

        tags = {
            EVAL_ID_TAG: self.eval_id,
            KIND_TAG: "evaluation",
            "forgekit.version": forgekit.__version__,
            "mlflow.runName": self.name,
            **self.tags,
        }
        run = client.create_run(self._experiment_id, tags=tags)
        run_id = run.info.run_id
        flat = {f"config.{k}": v for k, v in flatten(self.config).items()}
        params = {
            "name": self.name,
            "config_hash": self.config_hash,
            **self.params,
            **dict(list(flat.items())[:MAX_CONFIG_PARAMS]),
        }
        client.log_batch(run_id, params=[Param(key(k), _param_value(v)) for k, v in params.items()])
        self._log_json(client, run_id, self.config, "config.json")
        return run_id

    @staticmethod
    def _log_json(client: Any, run_id: str, data: Any, name: str) -> None:
        with tempfile.TemporaryDirectory(prefix="forgekit-track-") as tmp:
            path = Path(tmp) / name
            path.write_text(
                json.dumps(data, indent=2, default=str, sort_keys=True), encoding="utf-8"
            )
            client.log_artifact(run_id, str(path))

    @staticmethod
    def _log_table(client: Any, run_id: str, table: Any, stem: str) -> None:
        import mlflow

        df = _to_pandas(table)
        mlflow.log_table(df, artifact_file=f"{stem}.json", run_id=run_id)
        with tempfile.TemporaryDirectory(prefix="forgekit-track-") as tmp:
            path = Path(tmp) / f"{stem}.csv"
            df.to_csv(path, index=False)
            client.log_artifact(run_id, str(path))

    @staticmethod
    def _log_trajectories(
        client: Any, run_id: str, trajectories: Iterable[Any], as_runs: bool, experiment_id: str
    ) -> None:
        from forgekit.tracking.runs import as_trajectories, jsonl_text, log_records

        items = list(trajectories)
        if not items:
            return
        records = as_trajectories(items)
        with tempfile.TemporaryDirectory(prefix="forgekit-track-") as tmp:
            for rec in (r for root in records for r in root.walk()):
                if rec.path is not None and rec.path.is_file():
                    client.log_artifact(run_id, str(rec.path), "trajectories")
                else:
                    path = Path(tmp) / f"{rec.run_id}.jsonl"
                    path.write_text(jsonl_text(rec), encoding="utf-8")
                    client.log_artifact(run_id, str(path), "trajectories")
        if as_runs:
            log_records(client, experiment_id, records, parent_mlflow_run_id=run_id)

    @staticmethod
    def _log_traces(
        client: Any,
        run_id: str,
        trajectories: list[Any],
        limit: int,
        experiment_id: str,
        seed: int = 0,
    ) -> None:
        """A seeded random sample of `limit` trajectories (`trace_sample`) as traces of
        the cell's run (a trace per sample, its spans the steps, model and tool calls),
        scores attached as feedback."""
        from forgekit.tracking.runs import as_trajectories
        from forgekit.tracking.traces import log_feedback, log_run_trace

        done = {
            (t.info.tags or {}).get("forgekit.run_id")
            for t in _run_traces(client, experiment_id, run_id)
        }
        traced = []
        records = as_trajectories(trajectories)
        for rec in trace_sample(records, limit, seed):
            if rec.run_id in done:  # a resumed evaluation: logged the first time
                continue
            try:
                traced.append((log_run_trace(client, experiment_id, rec, run_id), rec))
            except Exception as e:  # one bad trace must not stop the others
                log.warning("trace of run %s skipped: %s", rec.run_id, e)
        if traced:
            log_feedback(traced)
        client.set_tag(
            run_id, "forgekit.traces", f"{min(limit, len(records))} of {len(records)}"
        )
        client.set_tag(run_id, "forgekit.traces_seed", str(seed))

    # -- public ----------------------------------------------------------------------------

    def start(self) -> str | None:
        """Create (or, for a resumed evaluation, reopen) the parent run; return its id."""
        return self._run(lambda client, parent, experiment: parent)

    def log_cell(
        self,
        params: dict[str, Any],
        metrics: dict[str, Any],
        *,
        name: str | None = None,
        cell_id: str | None = None,
        table: Any = None,
        artifacts: Iterable[str | Path] = (),
        trajectories: Iterable[Any] = (),
        trajectory_runs: bool = False,
        traces: int = 0,
        trace_seed: int = 0,
        tags: dict[str, str] | None = None,
    ) -> str | None:
        """Log one model x solver cell as a child run of the evaluation.

        Args:
            params: what defines the cell, e.g. ``{"model": "local", "solver": "plain"}``.
            metrics: numbers, e.g. accuracy, ci_low, ci_high, cost_usd, tokens, latency_s
                (non-numeric values are ignored).
            name: the run name (default: the param values joined by " x ").
            cell_id: identifies the cell across re-runs (default: hash of params); logging
                the same cell again updates its run instead of adding one.
            table: per-sample results (polars or pandas DataFrame, list of dicts), logged
                with `mlflow.log_table` as results.json and as results.csv.
            artifacts: files to attach (a report, a plot).
            trajectories: the cell's trajectories (paths, Trajectory objects or events),
                attached under ``trajectories/``.
            trajectory_runs: also log each trajectory as a nested run with its trace.
            traces: log `traces` trajectories, a random sample (`trace_sample`: seeded by
                `trace_seed`, the same samples in every cell), as MLflow traces linked to
                the cell's run (its Traces tab), with their scores as feedback; 0 = none.
            tags: extra tags.

        Returns:
            The cell's MLflow run id, or None when tracking is off or was skipped.
        """
        trajectories = list(trajectories)
        cid = cell_id or stable_hash(params)
        label = name or " x ".join(str(v) for v in params.values()) or cid
        numbers = _numeric(metrics)
        self._rows[cid] = {"cell": label, **params, **numbers}

        def body(client: Any, parent: str, experiment_id: str) -> str:
            from mlflow.entities import Metric, Param

            run = self._find(
                client,
                [f"tags.`{CELL_ID_TAG}` = '{cid}'", f"tags.`mlflow.parentRunId` = '{parent}'"],
            )
            if run is None:
                run = client.create_run(
                    experiment_id,
                    tags={
                        CELL_ID_TAG: cid,
                        KIND_TAG: "cell",
                        EVAL_ID_TAG: self.eval_id,
                        "mlflow.parentRunId": parent,
                        "mlflow.runName": label,
                        **(tags or {}),
                    },
                )
                logged_params = [Param(key(k), _param_value(v)) for k, v in params.items()]
            else:
                client.update_run(run.info.run_id, status="RUNNING")
                logged_params = []  # already there, and MLflow params are write-once
            run_id = run.info.run_id
            now = int(time.time() * 1000)
            client.log_batch(
                run_id,
                params=logged_params,
                metrics=[Metric(k, v, now, 0) for k, v in numbers.items()],
            )
            if table is not None:
                self._log_table(client, run_id, table, "results")
            for path in artifacts:
                client.log_artifact(run_id, str(path))
            self._log_trajectories(
                client, run_id, trajectories, trajectory_runs, experiment_id
            )
            if traces > 0 and trajectories and not trajectory_runs:
                self._log_traces(
                    client, run_id, trajectories, traces, experiment_id, trace_seed
                )
            client.set_terminated(run_id, "FINISHED")
            self.cells[cid] = run_id
            return run_id

        return self._run(body)

    def finish(
        self,
        metrics: dict[str, Any] | None = None,
        *,
        table: Any = None,
        tables: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        artifacts: Iterable[str | Path] = (),
        status: str = "completed",
    ) -> str | None:
        """Close the evaluation: overall metrics and tags, a table of the cells
        (cells.json/.csv), optional tables (`tables`: file stem -> table) and files; the
        parent run ends FINISHED (FAILED unless status is "completed"). Returns the parent
        run id."""

        def body(client: Any, parent: str, experiment_id: str) -> str:
            from mlflow.entities import Metric, RunTag

            now = int(time.time() * 1000)
            numbers = _numeric(metrics or {})
            if numbers or tags:
                client.log_batch(
                    parent,
                    metrics=[Metric(k, v, now, 0) for k, v in numbers.items()],
                    tags=[RunTag(key(k), str(v)[:5000]) for k, v in (tags or {}).items()],
                )
            for stem, extra in (tables or {}).items():
                self._log_table(client, parent, extra, stem)
            if self._rows:
                self._log_table(client, parent, list(self._rows.values()), "cells")
            if table is not None:
                self._log_table(client, parent, table, "results")
            for path in artifacts:
                client.log_artifact(parent, str(path))
            client.set_terminated(parent, "FINISHED" if status == "completed" else "FAILED")
            return parent

        return self._run(body)

    def __enter__(self) -> EvalTracker:
        self.start()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.finish(status="completed" if exc_type is None else "failed")


def log_evaluation(
    name: str,
    config: dict[str, Any] | None = None,
    cells: Iterable[dict[str, Any]] = (),
    *,
    metrics: dict[str, Any] | None = None,
    table: Any = None,
    artifacts: Iterable[str | Path] = (),
    eval_id: str | None = None,
    project_config: ProjectConfig | None = None,
    uri: str | None = None,
    experiment: str | None = None,
) -> str | None:
    """Log a finished evaluation in one call.

    Args:
        name: the evaluation's name.
        config: the suite config.
        cells: one dict per model x solver cell with the keyword arguments of
            `EvalTracker.log_cell`: ``params`` and ``metrics`` (required), and optionally
            ``name``, ``cell_id``, ``table``, ``artifacts``, ``trajectories``,
            ``trajectory_runs``, ``tags``.
        metrics, table, artifacts: the evaluation's overall results (parent run).
        eval_id, project_config, uri, experiment: see `EvalTracker`.

    Returns:
        The parent MLflow run id, or None when tracking is off or was skipped.

    Example:
        >>> log_evaluation("smoke", {"task_set": "arith"}, cells=[
        ...     {"params": {"model": "local", "solver": "plain"},
        ...      "metrics": {"accuracy": 0.5}}])  # doctest: +SKIP
    """
    tracker = EvalTracker(
        name,
        config=config,
        eval_id=eval_id,
        project_config=project_config,
        uri=uri,
        experiment=experiment,
    )
    tracker.start()
    for cell in cells:
        cell = dict(cell)
        tracker.log_cell(cell.pop("params"), cell.pop("metrics", {}), **cell)
    return tracker.finish(metrics, table=table, artifacts=artifacts)


DEFAULT_TRACES = 20  # per cell; FORGEKIT_EVAL_TRACES or log_results(traces=) change it


def trace_sample(records: list[Trajectory], limit: int, seed: int = 0) -> list[Trajectory]:
    """A random sample of `limit` runs for tracing, reproducible and the same in every
    cell: each run is ranked by a hash of (seed, its sample id, its epoch), so a large
    evaluation traces a spread of its samples, not its first N, every cell traces the same
    samples (their traces compare side by side) and a re-logged evaluation picks the same
    ones. Returned in their original order."""
    if limit >= len(records):
        return list(records)
    if limit <= 0:
        return []

    def rank(i: int) -> tuple[str, int]:
        start = records[i].start
        ident = start.sample_id or start.run_id
        return stable_hash([seed, ident, start.epoch]), i

    chosen = sorted(sorted(range(len(records)), key=rank)[:limit])
    return [records[i] for i in chosen]


def _traces_per_cell(traces: int | None) -> int:
    if traces is not None:
        return max(0, traces)
    import os

    try:
        return max(0, int(os.environ.get("FORGEKIT_EVAL_TRACES", DEFAULT_TRACES)))
    except ValueError:
        return DEFAULT_TRACES


def comparison_metrics(results: Any) -> tuple[dict[str, float], dict[str, str], list[dict]]:
    """The paired comparisons of an evaluation as parent-run metrics
    (``diff.<cell>``, ``diff_ci_low.<cell>``, ``diff_ci_high.<cell>``, ``p_value.<cell>``),
    tags (``forgekit.reading.<cell>``: the plain-language reading) and table rows."""
    metrics: dict[str, float] = {}
    tags: dict[str, str] = {}
    rows = []
    for c in results.comparisons():
        name = c["name"].replace("/", ".")
        for k in ("diff", "ci_low", "ci_high", "p_value"):
            metric = "diff_" + k if k.startswith("ci") else k
            metrics[f"{metric}.{name}"] = c[k]
        metrics[f"significant.{name}"] = float(c["significant"])
        tags[f"forgekit.reading.{name}"] = c["reading"]
        rows.append(
            {k: c[k] for k in ("name", "baseline", "n", "won", "lost", "diff", "ci_low",
                               "ci_high", "p_value", "significant", "reading")}
        )
    return metrics, tags, rows


def log_results(
    results: Any,
    project_config: ProjectConfig | None = None,
    *,
    uri: str | None = None,
    experiment: str | None = None,
    traces: int | None = None,
    trace_seed: int | None = None,
) -> dict[str, Any]:
    """Log an `EvalResults` (what `forgekit.evals.evaluate` returns) to MLflow: a parent
    run for the evaluation, a child run per model x solver cell with its params, metrics
    (accuracy, CI bounds, cost, tokens, latency), table and trajectories, and the report
    and plot as artifacts. Logging the same evaluation again (a resumed run) updates the
    same runs. Never raises: tracking must not fail an evaluation.

    Args:
        results: the evaluation's results.
        project_config, uri, experiment: where to log (see `EvalTracker`; by default the
            project's tracking settings).
        traces: how many samples per cell get their trajectory logged as an MLflow trace
            of the cell's run (default 20, or `FORGEKIT_EVAL_TRACES`; 0 = none): a random
            sample, the same samples in every cell (see `trace_sample`).
        trace_seed: the sample's seed (default: the suite's seed, else 0).

    Returns:
        ``{"mlflow_run_id", "mlflow_uri", "mlflow_experiment"}``, or ``{"error": ...}``
        saying why nothing was logged.

    Example:
        >>> results = evaluate("evals/main.yaml", limit=5)          # doctest: +SKIP
        >>> results.tracking = log_results(results)                 # doctest: +SKIP
    """
    try:
        meta = results.meta
        tracker = EvalTracker(
            meta.get("suite", {}).get("name", results.eval_id),
            config=meta.get("suite", {}),
            eval_id=results.eval_id,
            params={"suite_hash": meta.get("suite_hash", "")},
            project_config=project_config,
            uri=uri,
            experiment=experiment,
        )
        tracker.start()
        per_cell = _traces_per_cell(traces)
        if trace_seed is None:
            trace_seed = _int(meta.get("suite", {}).get("seed"), 0)
        for cell in results.cell_payloads():
            trajectories, artifacts = _readable(cell["trajectories"])
            tracker.log_cell(
                cell["params"],
                cell["metrics"],
                table=cell["table"],
                trajectories=trajectories,
                artifacts=artifacts,
                traces=per_cell,
                trace_seed=trace_seed,
            )
        out_dir = results.out_dir
        if out_dir is not None and not (out_dir / "report.html").exists():
            results.report()  # the first evaluation's report is attached too
        if out_dir is not None and not (out_dir / "accuracy_vs_cost.png").exists():
            results.plot()
        artifacts = (
            [p for p in (out_dir / "report.html", out_dir / "accuracy_vs_cost.png") if p.exists()]
            if out_dir is not None
            else []
        )
        metrics, tags, rows = comparison_metrics(results)
        run_id = tracker.finish(
            metrics=metrics,
            tags=tags,
            table=results.summary(),
            tables={"comparison": rows} if rows else None,
            artifacts=artifacts,
        )
        if run_id is None:
            return {"error": "tracking skipped (see the TrackingWarning above)"}
        return {
            "mlflow_run_id": run_id,
            "mlflow_uri": tracker.uri,
            "mlflow_experiment": tracker.experiment,
        }
    except Exception as e:  # depends on the store
        log.warning("MLflow tracking failed: %s", e)
        return {"error": f"{type(e).__name__}: {e}"}


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _run_traces(client: Any, experiment_id: str, run_id: str) -> list[Any]:
    """The traces already linked to an MLflow run (none when the store cannot say)."""
    try:
        return list(
            client.search_traces(
                locations=[experiment_id], run_id=run_id, include_spans=False, max_results=1000
            )
        )
    except Exception as e:  # older stores
        log.debug("cannot list the traces of run %s: %s", run_id, e)
        return []


def _readable(paths: list[str]) -> tuple[list[str], list[str]]:
    """Trajectories the tracking layer can read are logged as trajectories; files it
    cannot parse are still attached, as plain artifacts."""
    from forgekit.tracking.runs import as_trajectories

    try:
        as_trajectories(paths)
        return paths, []
    except Exception as e:
        log.info("trajectories attached as plain files: %s", e)
        return [], paths
