"""An evaluation as a parent MLflow run with a child run per model x solver cell."""

import json
import time
from pathlib import Path

import polars as pl
import pytest

from forgekit.tracking import EvalTracker, TrackingWarning, log_evaluation
from tests.tracking.recorded_runs import run_events, write_jsonl


def _cells(tmp_path: Path) -> list[dict]:
    t0 = time.time() - 30
    paths = [
        write_jsonl(tmp_path / "runs" / f"{i}.jsonl", run_events(f"s{i}", t0=t0 + i))
        for i in range(2)
    ]
    plot = tmp_path / "plot.png"
    plot.write_bytes(b"\x89PNG fake")
    table = pl.DataFrame({"sample": ["s0", "s1"], "score": [1.0, 0.0], "cost_usd": [0.1, 0.2]})
    return [
        {
            "params": {"model": "local", "solver": "plain"},
            "metrics": {
                "accuracy": 0.5,
                "ci_low": 0.1,
                "ci_high": 0.9,
                "cost_usd": 0.3,
                "tokens": 80,
                "note": "not a number",
            },
            "table": table,
            "artifacts": [plot],
            "trajectories": paths,
        },
        {
            "params": {"model": "local", "solver": "cot"},
            "metrics": {"accuracy": 1.0, "ci_low": 1.0, "ci_high": 1.0, "cost_usd": 0.5},
        },
    ]


def test_parent_and_cells(store: str, tmp_path: Path):
    from mlflow.tracking import MlflowClient

    config = {"task_set": "arith", "models": ["local"], "limits": {"steps": 4}}
    parent = log_evaluation(
        "arith-smoke", config, _cells(tmp_path), metrics={"best_accuracy": 1.0}, uri=store
    )
    client = MlflowClient(store)
    run = client.get_run(parent)
    assert run.data.tags["mlflow.runName"] == "arith-smoke"
    assert run.data.params["config.task_set"] == "arith"
    assert run.data.params["config.limits.steps"] == "4"
    assert run.data.metrics["best_accuracy"] == 1.0 and run.info.status == "FINISHED"
    exp = run.info.experiment_id
    cells = client.search_runs([exp], filter_string=f"tags.`mlflow.parentRunId` = '{parent}'")
    by_solver = {c.data.params["solver"]: c for c in cells}
    assert set(by_solver) == {"plain", "cot"}
    plain = by_solver["plain"]
    assert plain.data.tags["mlflow.runName"] == "local x plain"
    assert plain.data.metrics == {
        "accuracy": 0.5,
        "ci_low": 0.1,
        "ci_high": 0.9,
        "cost_usd": 0.3,
        "tokens": 80.0,
    }
    names = {a.path for a in client.list_artifacts(plain.info.run_id)}
    assert {"results.json", "results.csv", "plot.png", "trajectories"} <= names
    trajs = {a.path for a in client.list_artifacts(plain.info.run_id, "trajectories")}
    assert trajs == {"trajectories/0.jsonl", "trajectories/1.jsonl"}
    local = client.download_artifacts(plain.info.run_id, "results.json", str(tmp_path))
    table = json.loads(Path(local).read_text())
    assert table["columns"] == ["sample", "score", "cost_usd"] and len(table["data"]) == 2
    # the parent holds a table comparing the cells
    local = client.download_artifacts(parent, "cells.json", str(tmp_path / "p"))
    cells_table = json.loads(Path(local).read_text())
    assert len(cells_table["data"]) == 2 and "accuracy" in cells_table["columns"]


def test_rerun_reuses_parent_and_cells(store: str, tmp_path: Path):
    from mlflow.tracking import MlflowClient

    config = {"task_set": "arith"}
    first = log_evaluation("e", config, _cells(tmp_path)[1:], uri=store)
    with EvalTracker("e", config=config, uri=store) as tracker:
        cell = tracker.log_cell({"model": "local", "solver": "cot"}, {"accuracy": 0.75})
    assert tracker.run_id == first
    client = MlflowClient(store)
    exp = client.get_run(first).info.experiment_id
    assert len(client.search_runs([exp])) == 2  # still one parent and one cell
    assert client.get_run(cell).data.metrics["accuracy"] == 0.75
    history = client.get_metric_history(cell, "accuracy")
    assert [m.value for m in history] == [1.0, 0.75]


def test_cell_trajectories_as_nested_runs_with_traces(store: str, tmp_path: Path):
    from mlflow.tracking import MlflowClient

    t0 = time.time() - 30
    paths = [write_jsonl(tmp_path / f"{i}.jsonl", run_events(f"t{i}", t0=t0)) for i in range(2)]
    tracker = EvalTracker("nested", uri=store)
    cell = tracker.log_cell(
        {"model": "local"}, {"accuracy": 1}, trajectories=paths, trajectory_runs=True
    )
    tracker.finish()
    client = MlflowClient(store)
    exp = client.get_run(cell).info.experiment_id
    samples = client.search_runs([exp], filter_string=f"tags.`mlflow.parentRunId` = '{cell}'")
    assert sorted(r.data.tags["forgekit.run_id"] for r in samples) == ["t0", "t1"]
    assert all("forgekit.trace_id" in r.data.tags for r in samples)


def test_log_results_of_an_evaluation(store: str, tmp_path: Path):
    from mlflow.tracking import MlflowClient

    from forgekit.core.config import load_config
    from forgekit.evals import Suite, evaluate
    from forgekit.models import Gateway, ScriptedSource
    from forgekit.tracking import log_results

    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "input": f"{i}+{i}?", "target": str(2 * i)}) + "\n"
            for i in range(4)
        )
    )
    suite = Suite(
        name="arith",
        taskset={"path": str(tasks)},
        models=["local"],
        solvers=[{"name": "plain", "template": "{input}"}, {"name": "sys", "template": "{input}",
                                                         "system": "Be exact."}],
        scorers=["exact"],
    )

    def answer(req) -> str:  # "sys" is right on every sample, "plain" on s0 only
        n = int(req.messages[-1].content.split("+")[0])
        return str(2 * n) if req.messages[0].role == "system" or n == 0 else "?"

    cfg = load_config(env={"FORGEKIT_HOME": str(tmp_path)})
    results = evaluate(
        suite, Gateway(cfg, source=ScriptedSource(answer)), out_dir=tmp_path / "ev", progress=False
    )
    info = log_results(results, uri=store, traces=2)
    client = MlflowClient(store)
    parent = client.get_run(info["mlflow_run_id"])
    assert parent.data.tags["forgekit.eval_id"] == results.eval_id
    cells = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'",
    )
    acc = {c.data.params["solver"]: c.data.metrics["accuracy"] for c in cells}
    assert acc == {"plain": 0.25, "sys": 1.0}
    sys_cell = next(c for c in cells if c.data.params["solver"] == "sys")
    trajs = client.list_artifacts(sys_cell.info.run_id, "trajectories")
    assert len(trajs) == 4
    # the parent holds the paired comparison: metrics, the reading, a table
    assert parent.data.metrics["diff.local.sys"] == pytest.approx(0.75)
    assert 0 < parent.data.metrics["p_value.local.sys"] <= 1
    assert parent.data.metrics["diff_ci_low.local.sys"] > 0
    assert "local/sys scores +0.750 vs local/plain" in parent.data.tags[
        "forgekit.reading.local.sys"]
    parent_files = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"comparison.csv", "report.html", "cells.csv"} <= parent_files  # the first run
    # a trace per sample (bounded: 2 per cell here), linked to its cell's run
    exp = parent.info.experiment_id
    traces = client.search_traces(locations=[exp], run_id=sys_cell.info.run_id)
    assert len(traces) == 2 and sys_cell.data.tags["forgekit.traces"] == "2 of 4"
    # a seeded random sample, the same samples in both cells
    plain_cell = next(c for c in cells if c.data.params["solver"] == "plain")
    plain_traces = client.search_traces(locations=[exp], run_id=plain_cell.info.run_id)

    def traced(ts):
        return sorted((t.info.tags or {}).get("forgekit.sample_id", "") for t in ts)

    assert traced(traces) == traced(plain_traces) and all(traced(traces))
    assert sys_cell.data.tags["forgekit.traces_seed"] == "0"
    # logging the same evaluation again updates the same runs, adds no trace twice
    assert log_results(results, uri=store, traces=2)["mlflow_run_id"] == parent.info.run_id
    assert len(client.search_traces(locations=[exp], run_id=sys_cell.info.run_id)) == 2
    # a store that cannot be opened is reported, never raised
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.warns(TrackingWarning, match="tracking skipped"):
        info = log_results(results, uri=f"sqlite:///{tmp_path}/a-file/x.db")
    assert "error" in info


def test_traces_are_a_seeded_random_sample_not_the_first_n() -> None:
    from forgekit.core.events import RunStart
    from forgekit.tracking.eval_tracker import trace_sample
    from forgekit.trajectory import Trajectory

    def cell(prefix: str) -> list[Trajectory]:
        return [
            Trajectory.from_events([RunStart(run_id=f"{prefix}{i}", sample_id=f"q{i}", epoch=0)])
            for i in range(1000)
        ]

    a, b = cell("a"), cell("b")
    picked = [r.start.sample_id for r in trace_sample(a, 20, seed=7)]
    assert len(picked) == 20 and picked != [f"q{i}" for i in range(20)]
    indices = [int(s[1:]) for s in picked]
    assert indices == sorted(indices) and max(indices) > 500  # spread, in task order
    assert picked == [r.start.sample_id for r in trace_sample(a, 20, seed=7)]  # reproducible
    assert picked == [r.start.sample_id for r in trace_sample(b, 20, seed=7)]  # every cell
    assert picked != [r.start.sample_id for r in trace_sample(a, 20, seed=8)]
    assert len(trace_sample(a[:5], 20)) == 5 and trace_sample(a, 0) == []
