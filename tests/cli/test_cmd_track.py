"""`forgekit track sync`: upload the runs MLflow lacks, say what it did, fail on a store
that cannot be reached."""

from __future__ import annotations

from pathlib import Path

from forgekit.tracking.server import free_port
from tests.tracking.recorded_runs import write_runs_folder


def test_cli_track_sync(tmp_path: Path, store: str, monkeypatch, capsys):
    from forgekit.cli.main import main

    runs_dir = tmp_path / "runs"
    write_runs_folder(runs_dir)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    assert main(["track", "sync", "--runs-dir", str(runs_dir)]) == 0
    assert "3 runs in the folder, 3 uploaded" in capsys.readouterr().out
    assert main(["track", "sync", "--runs-dir", str(runs_dir)]) == 0
    assert "0 uploaded, 3 already in MLflow" in capsys.readouterr().out
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    assert main(["track", "sync", "--runs-dir", str(runs_dir)]) == 1
    assert "unreachable" in capsys.readouterr().out
