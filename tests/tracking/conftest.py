"""Fixtures of the tracking tests: a real SQLite MLflow store per test, copied from one
migrated once per session (creating MLflow's tables takes seconds). Recorded runs to log
are built in `recorded_runs.py`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from forgekit.tracking.uri import import_mlflow

    import_mlflow()
    from mlflow.tracking import MlflowClient

    db = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(f"sqlite:///{db}").search_experiments()
    return db


@pytest.fixture
def store(tmp_path: Path, _migrated_db: Path) -> str:
    """The URI of a fresh SQLite MLflow store in tmp_path/.forgekit/mlflow.db."""
    db = tmp_path / ".forgekit" / "mlflow.db"
    db.parent.mkdir(parents=True)
    shutil.copy(_migrated_db, db)
    return f"sqlite:///{db}"
