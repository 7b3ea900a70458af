"""`forgekit pipeline run|list`: a real notebook job with parameter overrides, its logs and
MLflow run; a failing notebook named by its cell, exit code 1; the list with triggers and
the last firings."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from forgekit.cli.main import main
from forgekit.pipelines import Scheduler, load_job, load_jobs, read_runs, runs_log_path
from tests.pipelines.job_files import Recorder, job_file, notebook_outputs, write_job

pytestmark = pytest.mark.slow


def test_cli_run_with_parameter_override_keeps_notebook_logs_and_tracks(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    pytest.importorskip("mlflow")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    # a project with forgekit.yaml: tracking is on by default (SQLite in .forgekit/)
    (tmp_path / "forgekit.yaml").write_text("tracking:\n  experiment: nightly-jobs\n")
    f = job_file(tmp_path, "params.ipynb")
    rc = main(["pipeline", "run", str(f), "-p", "n=5", "-p", "greeting=hey"])
    out = capsys.readouterr().out
    assert rc == 0, out
    runs = read_runs(tmp_path / ".forgekit" / "pipelines" / "runs.jsonl")
    assert len(runs) == 1
    run = runs[0]
    assert run.status == "completed" and run.trigger == "manual"
    assert run.parameters == {"n": 5, "greeting": "hey"}
    assert run.output_notebook and Path(run.output_notebook).parent.parent.name == "params"
    assert "hey 105" in notebook_outputs(run.output_notebook)  # the override reached the kernel
    assert "completed" in out and run.output_notebook in out
    # the run is in MLflow: params, status, the executed notebook as an artifact
    assert run.mlflow_url and run.mlflow_url.startswith(f"sqlite:///{tmp_path}")
    assert f"mlflow: {run.mlflow_url}" in out
    from mlflow.tracking import MlflowClient

    uri, _, rest = run.mlflow_url.partition("#")
    client = MlflowClient(uri)
    mrun = client.get_run(rest.rsplit("/", 1)[-1])
    assert mrun.data.params["n"] == "5" and mrun.info.status == "FINISHED"
    assert mrun.data.tags["forgekit.job"] == "params"
    assert [a.path for a in client.list_artifacts(mrun.info.run_id)] == ["output.ipynb"]
    # `pipeline list` shows the last run
    rc = main(["pipeline", "list", "--pipelines", str(tmp_path / "pipelines")])
    assert rc == 0 and "completed" in capsys.readouterr().out


def test_failing_notebook_names_its_cell_and_exits_nonzero(tmp_path: Path, capsys) -> None:
    f = job_file(tmp_path, "fail.ipynb")
    rc = main(["pipeline", "run", str(f)])
    err = capsys.readouterr().err
    assert rc == 1
    # cell 3 of the executed notebook: parameters, injected parameters, x = 1, y = 10 / ...
    assert "cell 3" in err and "ZeroDivisionError" in err and "10 / divisor" in err
    (run,) = read_runs(runs_log_path(load_job(f)))
    assert run.status == "failed" and run.error is not None
    assert run.error.ename == "ZeroDivisionError" and run.error.cell_index == 3
    # the executed notebook is kept, with the error in it
    nb = nbformat.read(run.output_notebook, as_version=4)
    failed = [
        c
        for c in nb.cells
        if any(o.get("ename") == "ZeroDivisionError" for o in c.get("outputs", []))
    ]
    assert len(failed) == 1 and "10 / divisor" in failed[0].source


def test_pipeline_list_shows_triggers_and_last_firing(proj: Path, capsys) -> None:
    (proj / "data").mkdir()
    write_job(proj, "a", "schedule: {cron: '0 0 3 * * *'}\nwatch: {paths: [data]}\n")
    write_job(proj, "b", "after: {job: a, on: failure}\n")
    jobs = load_jobs(proj / "pipelines")
    sched = Scheduler(jobs, execute=Recorder(status={"a": "failed"}), inline=True)
    sched._states = {}
    from forgekit.pipelines.scheduler import _JobState

    for j in jobs:
        sched._states[j.name] = _JobState(j, None, None)
    sched.fire("a", "watch[0]", "watch", "1 file changed: data/x (added)")
    sched.tick()
    sched.tick()
    assert main(["pipeline", "list", "--pipelines", str(proj / "pipelines")]) == 0
    out = capsys.readouterr().out
    assert "cron 0 0 3 * * *" in out and "watch data (*, 2s)" in out
    assert "after a (failure)" in out
    assert out.count(" started") == 2 and "why: 1 file changed: data/x (added)" in out
    assert "why: a run r1 failed" in out
