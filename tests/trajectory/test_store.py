import asyncio
import csv
import json

import polars as pl
import pytest

from forgekit.core import Answer, ModelResponse, RunContext, Sample, ScoreEvent, Usage
from forgekit.trajectory import (
    Recorder,
    Trajectory,
    TrajectoryStore,
    TrajectoryTables,
    batch_stats,
    compaction,
    export_frame,
    export_run,
    score_means,
)
from tests.trajectory.trajectory_helpers import LoopSolver, record_run


def _populate(runs_dir, gateway_factory, n=6):
    """n runs: alternating solvers steps=2/3, one failure, one interrupted, prices set."""
    ids = []
    for i in range(n):
        replies = [
            ModelResponse(text=f"r{i}{k}", usage=Usage(input_tokens=100, output_tokens=10))
            for k in range(5)
        ]
        gw = gateway_factory(replies)
        steps = 2 + i % 2
        ids.append(
            asyncio.run(
                record_run(
                    LoopSolver(steps=steps),
                    Sample(id=f"s{i}", input="go"),
                    gw,
                    runs_dir,
                    tags={"batch": "b1" if i < 3 else "b2"},
                )
            )
        )
    gw = gateway_factory([RuntimeError("boom")])
    rec = Recorder.start(runs_dir, solver="broken", models=["local"])
    ctx = RunContext(gateway=gw, sink=rec, model="local")
    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(ctx.complete("q"))
    ctx.end(status="failed", error="ModelError: boom\ndetails")
    ids.append(rec.run_id)
    half = Recorder.start(runs_dir, solver="loop", models=["local"])
    half.emit(ScoreEvent(scorer="exact", value=1.0))
    half._fd, fd = None, half._fd  # simulate a process that never finished
    import os

    os.close(fd)
    ids.append(half.run_id)
    return ids


def test_queries_see_the_same_rows_before_and_after_compaction(tmp_path, gateway_factory):
    _populate(tmp_path, gateway_factory)
    store = TrajectoryStore(tmp_path)
    before = {
        t: store.query(
            f"select * from {t} order by run_id, seq"
            if t != "runs"
            else "select * from runs order by run_id"
        )
        for t in ("runs", "events", "model_calls", "tool_calls", "steps", "scores")
    }
    assert before["runs"].height == 8 and before["model_calls"].height == 15 + 1
    report = store.compact()
    assert report.runs == 8 and report.part == "part-00001"
    assert (tmp_path / "_compacted" / "part-00001" / "model_calls-000.parquet").exists()
    assert store.compact().part is None  # nothing new
    for name, df in before.items():
        after = store.query(
            f"select * from {name} order by run_id" + (", seq" if name != "runs" else "")
        )
        assert after.equals(df), name


def test_incremental_compaction_and_changed_files(tmp_path, gateway_factory):
    store = TrajectoryStore(tmp_path)
    ids = _populate(tmp_path, gateway_factory, n=2)
    store.compact()
    # a new run (not compacted) is visible at once
    _populate(tmp_path, gateway_factory, n=1)
    assert store.query("select count(*) as n from runs")["n"][0] == 7
    # a compacted run that grows (the interrupted one resumes writing) is read from its file
    interrupted = ids[-1]
    with open(tmp_path / f"{interrupted}.jsonl", "a") as f:
        f.write(
            json.dumps(
                {
                    "run_id": interrupted,
                    "seq": 2,
                    "type": "run_end",
                    "status": "completed",
                    "answer": "late",
                }
            )
            + "\n"
        )
    q = "select status, answer from runs where run_id = ?"
    assert store.query(q, [interrupted]).row(0) == ("completed", "late")
    assert store.compact().part == "part-00002"
    assert store.query(q, [interrupted]).row(0) == ("completed", "late")
    assert store.query("select count(*) as n from runs")["n"][0] == 7
    assert store.query("select count(*) as n from scores")["n"][0] == 2
    full = compaction.compact(tmp_path, full=True, chunk_files=3)  # 3 chunks
    assert full.runs == 7 and [p.name for p in (tmp_path / "_compacted").glob("part-*")] == [
        full.part
    ]
    assert len(list((tmp_path / "_compacted" / full.part).glob("runs-*.parquet"))) == 3
    assert store.query("select count(*) as n from runs")["n"][0] == 7


def test_runs_filters_and_helpers(tmp_path, gateway_factory):
    ids = _populate(tmp_path, gateway_factory)
    store = TrajectoryStore(tmp_path)
    store.compact()
    assert store.runs(status="failed")["run_id"].to_list() == [ids[6]]
    assert store.runs(status="interrupted")["run_id"].to_list() == [ids[7]]
    assert store.runs(tags={"batch": "b2"}).height == 3
    assert store.runs(solver="loop", limit=2).height == 2
    assert store.load(ids[0]).run_id == ids[0]

    cost = store.cost_by_model()
    row = cost.row(0, named=True)
    assert row["alias"] == "local" and row["calls"] == 16 and row["input_tokens"] == 1500
    assert row["errors"] == 1 and cost["input_tokens"].dtype == pl.Int64
    lat = store.latency_percentiles()
    assert lat.columns == ["alias", "calls", "p50_s", "p90_s", "p95_s", "p99_s", "max_s"]
    assert 0 <= lat["p50_s"][0] <= lat["p99_s"][0] <= lat["max_s"][0]
    fail = store.failure_reasons()
    reasons = dict(zip(fail["status"], fail["reason"], strict=True))
    assert reasons["failed"] == "ModelError: boom" and reasons["interrupted"] == "(none)"
    spr = store.steps_per_run()
    assert sorted(spr.filter(pl.col("solver") == "loop")["steps"].to_list()) == [
        0,
        2,
        2,
        2,
        3,
        3,
        3,
    ]


def test_batch_stats_per_solver_and_model(tmp_path, gateway_factory):
    _populate(tmp_path, gateway_factory)
    store = TrajectoryStore(tmp_path)
    by_solver = {r["solver"]: r for r in store.stats(by="solver").iter_rows(named=True)}
    loop = by_solver["loop"]
    assert loop["runs"] == 7 and loop["completed"] == 6
    assert loop["success_rate"] == pytest.approx(6 / 7)
    assert loop["median_steps"] == 2 and loop["mean_steps"] == pytest.approx(15 / 7)
    assert loop["mean_tokens"] == pytest.approx((3 * 220 + 3 * 330) / 7)
    assert loop["mean_score"] == 1.0 and loop["scored"] == 1
    assert by_solver["broken"]["success_rate"] == 0.0
    both = store.stats(by=["model", "solver"])
    assert set(both.columns) >= {
        "model",
        "solver",
        "runs",
        "mean_cost_usd",
        "median_cost_usd",
        "mean_duration_s",
        "median_tokens",
    }
    # the same numbers from trajectories in memory
    trajs = [Trajectory.load(r, tmp_path) for r in store.runs(top_level=True)["run_id"]]
    mem = batch_stats(TrajectoryTables(trajs), by="solver")
    assert mem.sort("solver")["runs"].to_list() == store.stats(by="solver")["runs"].to_list()
    with pytest.raises(ValueError, match="cannot group"):
        store.stats(by="colour")


def test_export_run_and_query_results(tmp_path, gateway_factory):
    ids = _populate(tmp_path / "runs", gateway_factory, n=1)
    store = TrajectoryStore(tmp_path / "runs")
    t = store.load(ids[0])
    p = export_run(t, tmp_path / "out" / "run.jsonl")
    lines = [json.loads(x) for x in p.read_text().splitlines()]
    assert len(lines) == len(t.events) and lines[1]["messages"][1]["content"] == "task: go"
    p = export_run(t, tmp_path / "out" / "run.csv")
    rows = list(csv.DictReader(p.open()))
    assert [r["type"] for r in rows] == [e.type for e in t.events]
    assert rows[1]["alias"] == "local" and rows[1]["summary"] == "r00"
    p = export_run(t, tmp_path / "out" / "run.parquet")
    table = pl.read_parquet(p)
    assert table["type"].to_list() == [e.type for e in t.events]
    assert table["alias"][1] == "local" and table.schema["input_tokens"] == pl.Int64
    df = store.query("select run_id, alias, input_tokens, call_key from model_calls")
    export_frame(df, tmp_path / "calls.csv")
    export_frame(df, tmp_path / "calls.jsonl")
    back = pl.read_csv(tmp_path / "calls.csv")
    assert (
        back.height == df.height and back["input_tokens"].to_list() == df["input_tokens"].to_list()
    )
    assert len((tmp_path / "calls.jsonl").read_text().splitlines()) == df.height
    export_frame(df, tmp_path / "calls.parquet")
    assert pl.read_parquet(tmp_path / "calls.parquet").height == df.height
    with pytest.raises(ValueError, match="jsonl, csv or parquet"):
        export_frame(df, tmp_path / "x.xlsx")


def test_store_renders_a_table_of_runs(tmp_path, gateway_factory):
    ids = _populate(tmp_path, gateway_factory, n=2)
    html = TrajectoryStore(tmp_path)._repr_html_()
    assert "4 runs" in html and all(i in html for i in ids)
    assert html.count("<tr>") == 5 and "interrupted" in html


def test_an_empty_store_answers_queries(tmp_path):
    store = TrajectoryStore(tmp_path / "none")
    assert store.query("select count(*) as n from model_calls")["n"][0] == 0
    assert store.runs().height == 0
    assert isinstance(Answer(), Answer)


def test_files_that_are_not_trajectories_are_skipped_with_a_warning(tmp_path, gateway_factory):
    _populate(tmp_path, gateway_factory, n=1)
    (tmp_path / "results.jsonl").write_text('{"type": "result", "x": 1}\n')
    store = TrajectoryStore(tmp_path)
    assert store.query("select count(*) as n from runs")["n"][0] == 3
    assert any("results.jsonl: not a trajectory" in w for w in store.warnings)
    report = store.compact()
    assert any("not a trajectory" in w for w in report.warnings)
    assert store.query("select count(*) as n from runs")["n"][0] == 3


def _scored_runs(runs_dir, solver, primary, other):
    for i, (p, o) in enumerate(zip(primary, other, strict=True)):
        rec = Recorder.start(runs_dir, solver=solver, run_id=f"{solver}{i}", models=["m"])
        rec.emit(ScoreEvent(scorer="accuracy", value=p))
        rec.emit(ScoreEvent(scorer="length_ok", value=o))
        rec.finish()


def test_batch_mean_score_is_the_primary_scorers_and_every_scorer_has_its_mean(tmp_path):
    # the accuracy (primary, recorded first) is 0 on every run; a second scorer is always 1:
    # the mean of all scores (0.5, or 0.2 with four lenient scorers) is not the accuracy
    _scored_runs(tmp_path, "plain", [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    _scored_runs(tmp_path, "best", [1.0, 0.0, 1.0], [1.0, 0.0, 1.0])
    store = TrajectoryStore(tmp_path)
    by = {r["solver"]: r for r in store.stats(by="solver").iter_rows(named=True)}
    assert by["plain"]["mean_score"] == 0.0 and by["plain"]["scored"] == 3
    assert by["best"]["mean_score"] == pytest.approx(2 / 3)
    named = batch_stats(store, by="solver", scorer="length_ok")
    assert named.sort("solver")["mean_score"].to_list() == [pytest.approx(2 / 3), 1.0]
    means = score_means(store, by="solver")
    rows = {(r["solver"], r["scorer"]): r for r in means.iter_rows(named=True)}
    assert rows[("plain", "accuracy")]["mean_score"] == 0.0
    assert rows[("plain", "length_ok")]["mean_score"] == 1.0
    assert rows[("best", "length_ok")]["scored"] == 3 and rows[("best", "accuracy")]["errors"] == 0
    assert means.filter(pl.col("solver") == "best")["scorer"].to_list() == [
        "accuracy", "length_ok"]  # in the order they were recorded
    # the same from trajectories in memory
    mem = batch_stats(TrajectoryTables([Trajectory.load(p) for p in tmp_path.glob("*.jsonl")]),
                      by="solver")
    assert mem.sort("solver")["mean_score"].to_list() == [pytest.approx(2 / 3), 0.0]
