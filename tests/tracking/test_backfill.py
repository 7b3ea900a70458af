"""Tracking never breaks a run: an unreachable store warns once, `track sync` catches up."""

import time
import warnings
from pathlib import Path

import pytest

from forgekit.tracking import EvalTracker, TrackingWarning, log_trajectory, sync_runs
from forgekit.tracking.server import free_port
from tests.tracking.recorded_runs import run_events, write_runs_folder


def test_server_down_warns_once_and_returns_none(tmp_path: Path):
    down = f"http://127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    with pytest.warns(TrackingWarning, match=r"tracking skipped: .*forgekit track sync"):
        assert log_trajectory(run_events("x"), uri=down) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        assert log_trajectory(run_events("y"), uri=down) is None
        tracker = EvalTracker("e", uri=down)
        assert tracker.log_cell({"model": "m"}, {"accuracy": 1.0}) is None
        assert tracker.finish() is None
    assert time.monotonic() - t0 < 15  # fails fast, no minutes of HTTP retries


def test_unusable_sqlite_path_warns(tmp_path: Path):
    (tmp_path / "file").write_text("not a folder")
    bad = f"sqlite:///{tmp_path}/file/mlflow.db"
    with pytest.warns(TrackingWarning, match="tracking skipped"):
        assert log_trajectory(run_events("x"), uri=bad) is None


def test_sync_uploads_what_is_missing_once(tmp_path: Path, store: str):
    runs_dir = tmp_path / "runs"
    write_runs_folder(runs_dir)
    down = f"http://127.0.0.1:{free_port()}"
    with pytest.warns(TrackingWarning):
        assert log_trajectory(runs_dir / "a.jsonl", uri=down) is None
    # "a" was already logged when the store was up; only the rest is new
    log_trajectory(runs_dir / "2026-11-21" / "b.jsonl", uri=store)
    report = sync_runs(runs_dir, uri=store)
    assert (report.runs_found, report.uploaded, report.already_tracked) == (3, 2, 1)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(store)
    exp = client.get_experiment_by_name("forgekit").experiment_id
    runs = {r.data.tags["forgekit.run_id"]: r for r in client.search_runs([exp])}
    assert set(runs) == {"a", "a-kid", "b"}
    assert runs["a-kid"].data.tags["mlflow.parentRunId"] == runs["a"].info.run_id
    again = sync_runs(runs_dir, uri=store)
    assert (again.uploaded, again.already_tracked) == (0, 3)
    assert len(client.search_runs([exp])) == 3



def test_unreadable_trajectory_warns_instead_of_raising(tmp_path: Path, store: str):
    (tmp_path / "junk.jsonl").write_text('{"type": "model_call"}\n')
    with pytest.warns(TrackingWarning, match="not a trajectory"):
        assert log_trajectory(tmp_path / "junk.jsonl", uri=store) is None
