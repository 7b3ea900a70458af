"""A guarded session on an MLflow store: reachability check, experiment, warn-once.

Tracking must never break a run. Every public logging function runs its body through
`guarded`: any failure of the store (bad URI, server down, a locked database) becomes one
warning per store, "tracking skipped: ...; run `forgekit track sync` later", and the
function returns None.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from forgekit.tracking.uri import artifact_root, import_mlflow, is_remote, sqlite_path

if TYPE_CHECKING:
    from forgekit.core.config import ProjectConfig

log = logging.getLogger(__name__)

RUN_ID_TAG = "forgekit.run_id"
SYNCED_TAG = "forgekit.synced"
HEALTH_TIMEOUT_S = 3.0

T = TypeVar("T")

# mlflow's tracking URI and tracer are process-wide: one session at a time
_LOCK = threading.RLock()
_warned: set[str] = set()


class TrackingWarning(UserWarning):
    """Tracking was skipped; the run itself is unaffected."""


class TrackingUnavailable(RuntimeError):
    """The tracking store cannot be reached."""


def warn_skipped(uri: str, reason: BaseException | str) -> None:
    """Warn once per store that tracking was skipped."""
    log.debug("tracking to %s failed", uri, exc_info=isinstance(reason, BaseException))
    if uri in _warned:
        return
    _warned.add(uri)
    text = str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__
    warnings.warn(
        f"tracking skipped: {text} (store {uri}); run `forgekit track sync` later",
        TrackingWarning,
        stacklevel=3,
    )


def check_reachable(uri: str, timeout_s: float = HEALTH_TIMEOUT_S) -> None:
    """Fail fast (seconds, not MLflow's minutes of retries) when the store is not there.

    Raises:
        TrackingUnavailable: the server does not answer /health, or the SQLite folder
            cannot be created.
    """
    if is_remote(uri):
        import httpx

        try:
            r = httpx.get(uri.rstrip("/") + "/health", timeout=timeout_s)
        except httpx.HTTPError as e:
            raise TrackingUnavailable(f"MLflow server {uri} is not reachable: {e}") from e
        if r.status_code != 200:
            raise TrackingUnavailable(
                f"MLflow server {uri} answered /health with HTTP {r.status_code}"
            )
        return
    db = sqlite_path(uri)
    if db is not None:
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise TrackingUnavailable(f"cannot create {db.parent}: {e}") from e
        if not os.access(db.parent, os.W_OK):
            raise TrackingUnavailable(f"{db.parent} is not writable")


_SESSION_ENV = {
    # no "View run at ..." line per logged run
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false",
    # log_table reads the table back first: no "Downloading artifacts" bar per cell
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@contextmanager
def mlflow_session(uri: str) -> Iterator[Any]:
    """An MlflowClient on `uri`, with mlflow's global tracking URI pointed at it for the
    duration (traces are exported to the global URI). Pending traces are flushed and the
    caller's tracking URI restored on exit."""
    mlflow = import_mlflow()
    from mlflow.tracking import MlflowClient
    from mlflow.tracking._tracking_service import utils as tracking_utils

    check_reachable(uri)
    from forgekit.tracking.schema import ensure_store

    with _LOCK:
        ensure_store(uri)  # tables created/migrated by one process at a time
        previous = tracking_utils._tracking_uri
        previous_env = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", *_SESSION_ENV)}
        os.environ.update(_SESSION_ENV)
        mlflow.set_tracking_uri(uri)
        try:
            yield MlflowClient(uri)
        finally:
            try:
                mlflow.flush_trace_async_logging()
            except Exception:  # pragma: no cover - flushing is best effort
                log.debug("flushing traces failed", exc_info=True)
            mlflow.set_tracking_uri(previous)
            for name, value in previous_env.items():
                _restore_env(name, value)


def ensure_experiment(client: Any, uri: str, name: str) -> str:
    """The id of experiment `name`, created (artifacts beside a SQLite store) if missing."""
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage == "deleted":
            client.restore_experiment(exp.experiment_id)
        return exp.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_root(uri))
    except Exception:
        # another process created it meanwhile
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


def find_run(client: Any, experiment_id: str, forgekit_run_id: str) -> Any | None:
    """The active MLflow run tagged with this forgekit run id, if any."""
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{RUN_ID_TAG}` = '{forgekit_run_id}'",
        max_results=5,
    )
    return found[0] if found else None


def tracked_runs(client: Any, experiment_id: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Every forgekit run in the experiment: (completely logged: forgekit run id -> MLflow
    run id, half-logged by a crash: forgekit run id -> MLflow run ids)."""
    synced: dict[str, str] = {}
    partial: dict[str, list[str]] = {}
    token = None
    while True:
        page = client.search_runs(
            [experiment_id],
            filter_string=f"tags.`{RUN_ID_TAG}` LIKE '%'",
            max_results=10_000,
            page_token=token,
        )
        for run in page:
            rid = run.data.tags.get(RUN_ID_TAG)
            if run.data.tags.get(SYNCED_TAG) == "true":
                synced[rid] = run.info.run_id
            else:
                partial.setdefault(rid, []).append(run.info.run_id)
        token = page.token
        if not token:
            return synced, partial


def tracking_settings(
    config: ProjectConfig | None, uri: str | None, experiment: str | None
) -> tuple[bool, str, str]:
    """(enabled, uri, experiment) from explicit arguments, the environment and the config."""
    from forgekit.tracking.uri import resolve_tracking_uri

    if config is None:
        from forgekit.core.config import load_config

        config = load_config()
    enabled = config.tracking.enabled or uri is not None
    return (enabled, uri or resolve_tracking_uri(config), experiment or config.tracking.experiment)


def guarded_call(uri: str, fn: Callable[[], T]) -> T | None:
    """Call `fn`; any failure becomes a once-per-store warning and None."""
    try:
        return fn()
    except Exception as e:  # tracking must never break a run
        warn_skipped(uri, e)
        return None
