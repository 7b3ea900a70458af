"""forgekit.tracking: MLflow runs, params, metrics, artifacts and traces.

Every logging function here is safe to call from a run: when the store is unreachable it
warns once (`TrackingWarning`) and returns None. mlflow itself is imported on first use.

    from forgekit.tracking import log_results, log_trajectory, EvalTracker, sync_runs, start_ui
"""

from forgekit.tracking.backfill import SyncReport, sync_runs
from forgekit.tracking.eval_tracker import EvalTracker, log_evaluation, log_results
from forgekit.tracking.runs import log_trajectories, log_trajectory
from forgekit.tracking.server import MlflowUI, start_ui
from forgekit.tracking.session import (
    TrackingUnavailable,
    TrackingWarning,
    ensure_experiment,
    mlflow_session,
)
from forgekit.tracking.uri import artifact_root, resolve_tracking_uri

__all__ = [
    "EvalTracker",
    "MlflowUI",
    "SyncReport",
    "TrackingUnavailable",
    "TrackingWarning",
    "artifact_root",
    "ensure_experiment",
    "log_evaluation",
    "log_results",
    "log_trajectories",
    "log_trajectory",
    "mlflow_session",
    "resolve_tracking_uri",
    "start_ui",
    "sync_runs",
]
