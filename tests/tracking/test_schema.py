"""The MLflow store's set-up: concurrent first uses of a fresh project leave it usable
(real processes racing on one SQLite file); a store broken by an interrupted migration
is named by the doctor with what to do."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

FIRST_USE = textwrap.dedent("""
    import os, sys, time
    from forgekit.tracking.session import ensure_experiment, mlflow_session
    uri, gate = sys.argv[1], sys.argv[2]
    import mlflow  # imported before the race, so that the processes start it together
    while not os.path.exists(gate):
        time.sleep(0.005)
    with mlflow_session(uri) as client:
        exp = ensure_experiment(client, uri, "forgekit")
        run = client.create_run(exp)
        client.log_metric(run.info.run_id, "step_metric", 1.0, step=1)
    print("OK")
""")


def test_concurrent_first_uses_of_a_fresh_store_leave_it_usable(tmp_path: Path) -> None:
    from forgekit.tracking.schema import store_problem

    db = tmp_path / ".forgekit" / "mlflow.db"
    uri = f"sqlite:///{db}"
    script = tmp_path / "first_use.py"
    script.write_text(FIRST_USE)
    gate = tmp_path / "gate"
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    procs = [subprocess.Popen([sys.executable, str(script), uri, str(gate)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    time.sleep(3)  # let them import mlflow; then all start at once
    gate.touch()
    outs = [p.communicate(timeout=180)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert store_problem(uri) is None
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("forgekit")
    assert len(client.search_runs([exp.experiment_id])) == 2


def test_an_interrupted_migration_is_named_with_the_fix(store: str, tmp_path, monkeypatch):
    from forgekit.cli.cmd_doctor import _check_store
    from forgekit.models.doctor import DoctorReport
    from forgekit.tracking.schema import store_problem
    from forgekit.tracking.uri import sqlite_path

    assert store_problem(store) is None
    db = sqlite_path(store)
    con = sqlite3.connect(db)
    con.execute("create table _alembic_tmp_metrics (key text)")
    con.commit()
    con.close()
    what, fix = store_problem(store)
    assert "schema migration was interrupted" in what and "_alembic_tmp_metrics" in what
    assert f"mv {db} {db}.broken" in fix and "forgekit track sync" in fix
    monkeypatch.setenv("FORGEKIT_HOME", str(tmp_path))
    monkeypatch.delenv("FORGEKIT_CONFIG", raising=False)  # the doctor checks this project's
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # store, not another one
    monkeypatch.chdir(tmp_path)
    report = DoctorReport()
    _check_store(report)
    (check,) = report.checks
    assert check.status == "error" and "_alembic_tmp_metrics" in check.detail
    (db.parent / "x").write_text("")
    db.write_bytes(b"not a database" * 100)
    assert "not a readable SQLite database" in store_problem(store)[0]
