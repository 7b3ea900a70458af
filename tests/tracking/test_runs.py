"""log_trajectory against a real SQLite MLflow store, read back through MlflowClient."""

import time
from pathlib import Path

import pytest

from forgekit.tracking import log_trajectory
from tests.tracking.recorded_runs import child_events, run_events, write_jsonl


def _client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(uri)


def _runs(uri: str):
    client = _client(uri)
    exp = client.get_experiment_by_name("forgekit")
    return client.search_runs([exp.experiment_id])


def test_a_run_becomes_an_mlflow_run(store: str, tmp_path: Path):
    path = write_jsonl(tmp_path / "runs" / "r1.jsonl", run_events("r1"))
    run_id = log_trajectory(path, uri=store)
    assert run_id is not None
    run = _client(store).get_run(run_id)
    p, m, t = run.data.params, run.data.metrics, run.data.tags
    assert p["solver"] == "agent" and p["models"] == "local" and p["config_hash"] == "cfg123"
    assert p["seed"] == "7" and p["sample_id"] == "s1" and p["config.max_steps"] == "4"
    assert p["temperature"] == "0.0"
    assert m["cost_usd"] == pytest.approx(0.003)
    assert (m["input_tokens"], m["output_tokens"], m["total_tokens"]) == (32, 8, 40)
    assert (m["model_calls"], m["tool_calls"], m["steps"]) == (2, 1, 1)
    assert m["model_latency_s"] == pytest.approx(1.4) and m["score.match"] == 1.0
    assert t["forgekit.run_id"] == "r1" and t["forgekit.status"] == "completed"
    assert t["forgekit.version"] and t["team"] == "evals"
    assert run.info.status == "FINISHED"
    # the trajectory file is the artifact, byte for byte
    local = _client(store).download_artifacts(run_id, "trajectory/r1.jsonl", str(tmp_path))
    assert Path(local).read_bytes() == path.read_bytes()
    # artifacts live beside the store, not in the cwd
    assert run.info.artifact_uri.startswith((tmp_path / ".forgekit" / "mlartifacts").as_uri())


def test_failed_run_status_and_error(store: str):
    run_id = log_trajectory(run_events("rf", status="failed"), uri=store)
    run = _client(store).get_run(run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["forgekit.status"] == "failed"
    assert run.data.tags["forgekit.error"] == "boom"


def test_nested_runs_become_parent_and_child(store: str, tmp_path: Path):
    t0 = time.time() - 30
    write_jsonl(tmp_path / "root.jsonl", run_events("root", t0=t0))
    write_jsonl(tmp_path / "kid.jsonl", child_events("kid", "root", t0))
    root_id = log_trajectory(tmp_path / "root.jsonl", uri=store)
    runs = {r.data.tags["forgekit.run_id"]: r for r in _runs(store)}
    assert set(runs) == {"root", "kid"}
    assert runs["kid"].data.tags["mlflow.parentRunId"] == root_id
    assert runs["kid"].data.tags["forgekit.parent_run_id"] == "root"
    assert runs["kid"].data.metrics["model_calls"] == 1
    # the tree's one trace is linked to the root run and to the child run
    client = _client(store)
    exp = client.get_experiment_by_name("forgekit").experiment_id
    for rid in (root_id, runs["kid"].info.run_id):
        (trace,) = client.search_traces(locations=[exp], run_id=rid)
        assert trace.info.trace_id == runs["root"].data.tags["forgekit.trace_id"]


def test_trace_shows_the_run_step_by_step(store: str):
    t0 = time.time() - 30
    run_id = log_trajectory(run_events("root", t0=t0) + child_events("kid", "root", t0), uri=store)
    client = _client(store)
    trace_id = client.get_run(run_id).data.tags["forgekit.trace_id"]
    trace = client.get_trace(trace_id)
    assert trace.info.request_metadata["mlflow.sourceRun"] == run_id
    assert trace.info.tags["forgekit.run_id"] == "root"
    spans = {s.name: s for s in trace.data.spans}
    root = next(s for s in trace.data.spans if s.parent_id is None)
    assert root.span_type == "AGENT" and root.outputs["answer"] == "5"
    step = spans["step 1"]
    assert step.parent_id == root.span_id and step.outputs == {"observation": "5"}
    calls = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    assert len(calls) == 3  # two in the root run, one in the child run
    first = next(s for s in calls if s.inputs["messages"][-1]["content"] == "What is 2 + 3?")
    assert first.parent_id == step.span_id  # the call belongs to the step it led to
    assert first.inputs["messages"][1] == {"role": "user", "content": "What is 2 + 3?"}
    assert first.outputs["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "add"
    assert first.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 12,
        "output_tokens": 5,
        "total_tokens": 17,
    }
    # recorded times, not logging time: the call lasted its recorded latency
    assert (first.end_time_ns - first.start_time_ns) / 1e9 == pytest.approx(0.8, abs=1e-3)
    tool = spans["add"]
    assert tool.span_type == "TOOL" and tool.parent_id == step.span_id
    assert tool.inputs == {"a": 2, "b": 3} and tool.outputs == {"result": "5"}
    kid = spans["candidate"]
    assert kid.span_type == "AGENT" and kid.parent_id == root.span_id
    assert spans["score match"].outputs["value"] == 1.0
    # scores are also feedback on the trace (the trace view's assessments)
    (feedback,) = trace.info.assessments
    assert feedback.name == "match" and feedback.value == 1.0
    # the trace is found from its run, and token usage adds up over the tree
    exp = client.get_experiment_by_name("forgekit").experiment_id
    found = client.search_traces(locations=[exp], run_id=run_id)
    assert [t.info.trace_id for t in found] == [trace_id]
    assert trace.info.token_usage["total_tokens"] == 17 + 23 + 3


def test_logging_twice_creates_nothing_new(store: str, tmp_path: Path):
    t0 = time.time() - 30
    events = run_events("root", t0=t0) + child_events("kid", "root", t0)
    first = log_trajectory(events, uri=store)
    again = log_trajectory(events, uri=store)
    assert first == again
    assert len(_runs(store)) == 2
    client = _client(store)
    exp = client.get_experiment_by_name("forgekit")
    assert len(client.search_traces(locations=[exp.experiment_id])) == 1


def test_half_logged_run_is_replaced(store: str):
    from forgekit.tracking.session import ensure_experiment

    client = _client(store)
    exp = ensure_experiment(client, store, "forgekit")
    # a crash after create_run: tagged with the run id but never marked synced
    stale = client.create_run(exp, tags={"forgekit.run_id": "r2"}).info.run_id
    run_id = log_trajectory(run_events("r2"), uri=store)
    assert run_id != stale
    assert [r.info.run_id for r in _runs(store)] == [run_id]
    assert client.get_run(run_id).data.tags["forgekit.synced"] == "true"


def test_tracking_disabled_in_config_logs_nothing(project: Path, store: str):
    from forgekit.core.config import load_config

    (project / "forgekit.yaml").write_text("tracking:\n  enabled: false\n")
    cfg = load_config(project / "forgekit.yaml", env={})
    assert log_trajectory(run_events("r3"), config=cfg) is None
    assert _client(store).get_experiment_by_name("forgekit") is None


def test_default_store_is_the_project_database(project: Path, _migrated_db: Path, monkeypatch):
    import shutil

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    db = project / ".forgekit" / "mlflow.db"
    db.parent.mkdir()
    shutil.copy(_migrated_db, db)  # a migrated store: creating MLflow's tables takes seconds
    run_id = log_trajectory(run_events("r4"))
    assert run_id is not None
    assert _client(f"sqlite:///{db}").get_run(run_id).data.tags["forgekit.run_id"] == "r4"
    assert (project / ".forgekit" / "mlartifacts").is_dir()
    assert not (project / "mlruns").exists()
