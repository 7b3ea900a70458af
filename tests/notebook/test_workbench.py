"""The marimo workbench app, executed headlessly on a small project."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from forgekit.notebook.workbench import list_evals, list_runs
from forgekit.pipelines import PipelineRun, list_pipeline_runs
from forgekit.pipelines.run_log import append_run

APP = Path(__file__).resolve().parents[2] / "notebooks" / "workbench.py"


@pytest.fixture
def project(tmp_path: Path, recorded_run: Path) -> Path:
    proj = tmp_path / "proj"
    runs = proj / ".forgekit" / "runs"
    runs.mkdir(parents=True)
    for f in recorded_run.parent.glob("*.jsonl"):
        (runs / f.name).write_bytes(f.read_bytes())
    (proj / "pipelines").mkdir()
    (proj / "nb.ipynb").write_text("{}")
    (proj / "pipelines" / "nightly.yaml").write_text("notebook: nb.ipynb\n")
    append_run(
        proj / ".forgekit" / "pipelines" / "runs.jsonl",
        PipelineRun(
            job="nightly",
            run_id="20261121T000000_000000Z",
            status="failed",
            started_at="2026-11-21T00:00:00+00:00",
            message="timed out after 5s",
        ),
    )
    return proj


def test_listings(project: Path) -> None:
    runs = list_runs(project)
    assert [r["solver"] for r in runs] == ["agent"]  # the child run is not top level
    assert Path(runs[0]["path"]).exists() and runs[0]["status"] == "completed"
    (prun,) = list_pipeline_runs(project)
    assert prun["job"] == "nightly" and prun["error"] == "timed out after 5s"
    assert list_evals(project) == []


def test_marimo_app_runs_headless(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("marimo")
    monkeypatch.setenv("FORGEKIT_PROJECT", str(project))
    spec = importlib.util.spec_from_file_location("forgekit_workbench_app", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outputs, defs = module.app.run()
    assert defs["project"] == project.resolve()
    assert [r["solver"] for r in defs["runs"]] == ["agent"]
    assert defs["pipeline_runs"][0]["status"] == "failed"
    assert defs["inspector"] is None  # nothing selected in a headless run
    assert "1 runs" in str(outputs[3].text if hasattr(outputs[3], "text") else outputs[3])


def test_widgets_display_in_marimo_as_anywidgets(recorded_run: Path) -> None:
    mo = pytest.importorskip("marimo")
    from forgekit.notebook import TrajectoryInspector

    shown = TrajectoryInspector(recorded_run)._display_()
    assert isinstance(shown, mo.ui.anywidget)
    assert "steps" in shown.widget.data


def test_runs_table_is_readable(project: Path) -> None:
    from forgekit.notebook.workbench import runs_table

    (row,) = runs_table(list_runs(project))
    assert list(row)[:4] == ["started", "solver", "status", "score"]
    assert row["started"].endswith(" UTC") and row["started"][:2] == "20"  # not epoch seconds
    assert row["score"] == 1.0  # the run's ScoreEvent
    assert "path" not in row and "started_at" not in row
