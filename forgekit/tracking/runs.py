"""Log forgekit runs (trajectories) as MLflow runs, idempotently and without ever raising.

A run becomes an MLflow run (params, metrics, tags, the JSONL file as an artifact); child
runs become nested MLflow runs; the run tree becomes one trace linked to the root run.
A run is found again by its `forgekit.run_id` tag, so logging it twice changes nothing.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forgekit.core.events import (
    Event,
    ModelCall,
    NoteEvent,
    RunEnd,
    RunStart,
    ScoreEvent,
    StepEvent,
    ToolCallEvent,
)
from forgekit.tracking.mapping import MLFLOW_STATUS, run_metrics, run_params, run_tags
from forgekit.tracking.session import (
    SYNCED_TAG,
    ensure_experiment,
    find_run,
    guarded_call,
    mlflow_session,
    tracking_settings,
    warn_skipped,
)

if TYPE_CHECKING:
    from forgekit.core.config import ProjectConfig
    from forgekit.trajectory import Trajectory

log = logging.getLogger(__name__)

ARTIFACT_DIR = "trajectory"


def _ms(ts: float) -> int:
    return int(ts * 1000)


_EVENT_TYPES = (RunStart, ModelCall, ToolCallEvent, StepEvent, ScoreEvent, NoteEvent, RunEnd)


def as_trajectories(value: Any) -> list[Trajectory]:
    """What a caller hands the tracking layer, as root trajectories with their children:
    a `Trajectory`, the path of a trajectory file (its children are found by the
    trajectory layer's rule), a list of `forgekit.core.events` objects (several runs
    linked by `parent_run_id`), or a list of any of these. A run listed beside its parent
    is logged under the parent only, once.

    Raises:
        ValueError: the value holds no run, or a file is not a trajectory.
    """
    from forgekit.core.errors import ForgekitError
    from forgekit.trajectory import Trajectory
    from forgekit.trajectory.tree import link

    if isinstance(value, Trajectory):
        return [value]
    if isinstance(value, (str, Path)):
        try:
            return [Trajectory.load(Path(value))]
        except ForgekitError as e:
            raise ValueError(str(e)) from e
    items = list(value)
    if items and all(isinstance(e, _EVENT_TYPES) for e in items):
        groups: dict[str, list[Event]] = {}
        for event in items:
            groups.setdefault(event.run_id, []).append(event)
        runs = []
        for group in groups.values():
            group.sort(key=lambda e: e.seq)
            if not isinstance(group[0], RunStart):
                raise ValueError("events: a trajectory starts with a run_start event")
            runs.append(Trajectory.from_events(group))
        return link(runs)
    out = [t for item in items for t in as_trajectories(item)]
    if not out:
        raise ValueError("no run to log: expected a trajectory, a path or run events")
    nested = {t.run_id for root in out for t in root.walk()[1:]}
    seen: set[str] = set()
    roots = []
    for t in out:
        if t.run_id not in nested and t.run_id not in seen:
            seen.add(t.run_id)
            roots.append(t)
    return roots


def jsonl_text(traj: Trajectory) -> str:
    """A run's own events as the text of its trajectory file (what the recorder writes)."""
    from forgekit.trajectory.format import LineEncoder

    encoder = LineEncoder()
    return "".join(encoder.encode(e) for e in traj.events)


def _log_artifact(client: Any, run_id: str, rec: Trajectory) -> None:
    if rec.path is not None and rec.path.is_file():
        client.log_artifact(run_id, str(rec.path), ARTIFACT_DIR)
        return
    # events handed over in memory: write them as the JSONL file the recorder would have
    with tempfile.TemporaryDirectory(prefix="forgekit-track-") as tmp:
        path = Path(tmp) / f"{rec.run_id or 'run'}.jsonl"
        path.write_text(jsonl_text(rec), encoding="utf-8")
        client.log_artifact(run_id, str(path), ARTIFACT_DIR)


def _create_run(
    client: Any, experiment_id: str, rec: Trajectory, parent_mlflow_run_id: str | None
) -> str:
    from mlflow.entities import Metric, Param

    run = client.create_run(
        experiment_id, start_time=_ms(rec.start.ts), tags=run_tags(rec, parent_mlflow_run_id)
    )
    run_id = run.info.run_id
    now = _ms(rec.end_ts)
    client.log_batch(
        run_id,
        metrics=[Metric(k, v, now, 0) for k, v in run_metrics(rec).items()],
        params=[Param(k, v) for k, v in run_params(rec).items()],
    )
    _log_artifact(client, run_id, rec)
    return run_id


class _TreeLogger:
    def __init__(
        self,
        client: Any,
        experiment_id: str,
        traces: bool,
        known: tuple[dict[str, str], dict[str, list[str]]] | None = None,
    ) -> None:
        self.client = client
        self.experiment_id = experiment_id
        self.traces = traces
        # prefetched by a sync: (synced forgekit id -> MLflow id, half-logged ones)
        self.known = known
        self.created = 0
        self.traced: list[tuple[str, Trajectory]] = []  # (trace id, run) written so far

    def existing(self, rec: Trajectory) -> str | None:
        """The MLflow run of a completely logged run; an incomplete one is deleted."""
        if self.known is not None:
            synced, partial = self.known
            if rec.run_id in synced:
                return synced[rec.run_id]
            for mlflow_id in partial.pop(rec.run_id, []):
                self.client.delete_run(mlflow_id)
            return None
        run = find_run(self.client, self.experiment_id, rec.run_id)
        if run is None:
            return None
        if run.data.tags.get(SYNCED_TAG) == "true":
            return run.info.run_id
        self.client.delete_run(run.info.run_id)  # a half-logged run from a crash
        return None

    def trace(self, rec: Trajectory, run_id: str) -> str | None:
        """The run tree's trace; a run is still logged when its trace cannot be (e.g. a
        trace already open in the caller's MLflow context)."""
        from forgekit.tracking.traces import log_run_trace

        try:
            return log_run_trace(self.client, self.experiment_id, rec, run_id)
        except Exception as e:  # noqa: BLE001
            log.warning("trace of run %s skipped: %s", rec.run_id, e)
            return None

    def log(self, rec: Trajectory, parent_mlflow_run_id: str | None, root: bool = True) -> str:
        """Log `rec` and its children (children first, the run marked synced last, so a
        crash never leaves a run that looks complete). A root gets the tree's trace."""
        from mlflow.entities import RunTag

        found = self.existing(rec)
        if found is not None:
            for child in rec.children:
                self.log(child, found, root=False)
            return found
        run_id = _create_run(self.client, self.experiment_id, rec, parent_mlflow_run_id)
        child_ids = [self.log(child, run_id, root=False) for child in rec.children]
        final_tags = {SYNCED_TAG: "true"}
        if self.traces and root:
            trace_id = self.trace(rec, run_id)
            if trace_id is not None:
                final_tags["forgekit.trace_id"] = trace_id
                self.traced.append((trace_id, rec))
            for child_id in child_ids if trace_id else ():
                try:
                    self.client.link_traces_to_run([trace_id], child_id)
                except Exception:  # older servers: the child run simply has no trace link
                    break
        # one commit marks the run complete (SQLite commits dominate the cost of a run)
        self.client.log_batch(run_id, tags=[RunTag(k, v) for k, v in final_tags.items()])
        self.client.set_terminated(
            run_id, MLFLOW_STATUS.get(rec.status, "FINISHED"), end_time=_ms(rec.end_ts)
        )
        if self.known is not None:
            self.known[0][rec.run_id] = run_id
        self.created += 1
        return run_id


def log_records(
    client: Any,
    experiment_id: str,
    records: list[Trajectory],
    *,
    traces: bool = True,
    parent_mlflow_run_id: str | None = None,
    known: tuple[dict[str, str], dict[str, list[str]]] | None = None,
) -> tuple[list[str], int]:
    """Log run trees through an open client. Returns (root MLflow run ids, runs created)."""
    tree = _TreeLogger(client, experiment_id, traces, known)
    ids = [tree.log(rec, parent_mlflow_run_id) for rec in records]
    if tree.traced:
        from forgekit.tracking.traces import log_feedback

        log_feedback(tree.traced)  # once for all: it waits for the traces to be stored
    return ids, tree.created


def log_trajectories(
    items: Any,
    *,
    config: ProjectConfig | None = None,
    uri: str | None = None,
    experiment: str | None = None,
    parent_mlflow_run_id: str | None = None,
    traces: bool = True,
) -> list[str] | None:
    """Log several runs; see `log_trajectory`. Returns their root MLflow run ids, or None
    when tracking is off or was skipped."""
    try:
        enabled, uri, experiment = tracking_settings(config, uri, experiment)
    except Exception as e:  # a broken forgekit.yaml must not break the run either
        warn_skipped("forgekit.yaml", e)
        return None
    if not enabled:
        return None

    def body() -> list[str]:
        records = as_trajectories(items)  # an unreadable file must not break the run either
        with mlflow_session(uri) as client:
            exp = ensure_experiment(client, uri, experiment)
            return log_records(
                client, exp, records, traces=traces, parent_mlflow_run_id=parent_mlflow_run_id
            )[0]

    return guarded_call(uri, body)


def log_trajectory(
    traj: Any,
    *,
    config: ProjectConfig | None = None,
    uri: str | None = None,
    experiment: str | None = None,
    parent_mlflow_run_id: str | None = None,
    traces: bool = True,
) -> str | None:
    """Log one forgekit run (and its child runs) to MLflow.

    Args:
        traj: a `forgekit.trajectory.Trajectory`, the path of a trajectory JSONL file (child
            runs are found in the same folder), or a list of `forgekit.core.events` objects
            (RunStart, events, RunEnd; children linked by `parent_run_id`).
        config: the project config (default: `load_config()`).
        uri: a tracking URI overriding the resolved one.
        experiment: the MLflow experiment (default: `tracking.experiment`, "forgekit").
        parent_mlflow_run_id: nest the run under this MLflow run (an eval cell).
        traces: also write the run as an MLflow trace.

    Returns:
        The MLflow run id, or None when tracking is disabled or the store is unreachable
        (a `TrackingWarning` says so once; nothing is raised).

    Example:
        >>> run_id = log_trajectory(".forgekit/runs/3f2a9c.jsonl")  # doctest: +SKIP
    """
    ids = log_trajectories(
        traj,
        config=config,
        uri=uri,
        experiment=experiment,
        parent_mlflow_run_id=parent_mlflow_run_id,
        traces=traces,
    )
    return ids[0] if ids else None
