"""Where tracking goes: the MLflow tracking URI and the artifact folder beside it.

Resolution order: the ``MLFLOW_TRACKING_URI`` environment variable, then ``tracking.uri`` in
``forgekit.yaml``, then a SQLite database in the project: ``<root>/.forgekit/mlflow.db``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forgekit.core.config import ProjectConfig

DEFAULT_DB = ".forgekit/mlflow.db"
ARTIFACTS_DIR = "mlartifacts"


def quiet_mlflow_env() -> None:
    """Turn MLflow's usage telemetry off; call before importing mlflow."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def import_mlflow() -> Any:
    """Import mlflow (1.3 s) with telemetry off."""
    quiet_mlflow_env()
    import mlflow

    quiet_mlflow_logs()
    return mlflow


def quiet_mlflow_logs() -> None:
    """MLflow's and alembic's INFO lines ("Creating initial MLflow database tables...",
    "Context impl SQLiteImpl") are not for forgekit's users: in a notebook they show in
    red boxes that look like errors. Warnings still show; `MLFLOW_LOGGING_LEVEL` (MLflow's
    own setting) wins when set."""
    import logging

    if os.environ.get("MLFLOW_LOGGING_LEVEL"):
        return
    for name in ("mlflow", "alembic"):
        logger = logging.getLogger(name)
        if logger.level in (logging.NOTSET, logging.INFO):
            logger.setLevel(logging.WARNING)


def _project_config(config: ProjectConfig | None) -> ProjectConfig:
    if config is not None:
        return config
    from forgekit.core.config import load_config

    return load_config()


def _absolute_sqlite(uri: str, root: Path) -> str:
    # a relative sqlite path in forgekit.yaml is relative to the project, not to the cwd
    path = uri[len("sqlite:///") :]
    if path and not path.startswith("/") and not path.startswith(":"):
        return "sqlite:///" + str((root / path).resolve())
    return uri


def resolve_tracking_uri(
    config: ProjectConfig | None = None, env: Mapping[str, str] | None = None
) -> str:
    """The tracking URI forgekit uses.

    Args:
        config: the project config (default: `load_config()`).
        env: the environment to read (default: `os.environ`).

    Returns:
        ``MLFLOW_TRACKING_URI`` if set, else ``tracking.uri`` from the config, else
        ``sqlite:///<project root>/.forgekit/mlflow.db``.

    Example:
        >>> resolve_tracking_uri(env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"})
        'http://127.0.0.1:5000'
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    if environ.get("MLFLOW_TRACKING_URI"):
        return environ["MLFLOW_TRACKING_URI"]
    cfg = _project_config(config)
    if cfg.tracking.uri:
        uri = cfg.tracking.uri
        return _absolute_sqlite(uri, cfg.root) if uri.startswith("sqlite:///") else uri
    return "sqlite:///" + str((cfg.root / DEFAULT_DB).resolve())


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, else None."""
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///") :]
        return Path(path) if path and not path.startswith(":") else None
    return None


def is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def artifact_root(uri: str) -> str | None:
    """The artifact folder for a local SQLite store: ``mlartifacts/`` beside the database.
    None for other stores (a server chooses its own)."""
    db = sqlite_path(uri)
    if db is None:
        return None
    return (db.resolve().parent / ARTIFACTS_DIR).as_uri()
