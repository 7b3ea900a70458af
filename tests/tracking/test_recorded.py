"""Runs recorded by the real Recorder (and the real local model) land in MLflow."""

from pathlib import Path

import pytest

from forgekit.core.events import StepEvent, ToolCallEvent
from forgekit.tracking import log_trajectory


def _client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(uri)


def test_recorder_files_and_trajectory_objects(store: str, tmp_path: Path):
    from forgekit.core.events import ModelCall
    from forgekit.core.messages import Message, Usage
    from forgekit.trajectory import Recorder, Trajectory

    runs = tmp_path / "runs"
    rec = Recorder.start(
        runs, solver="best_of_2", config={"n": 2}, models=["local"], sample_id="q1"
    )
    convo = [Message.user("2+3?")]
    for i in range(2):
        child = rec.child("candidate")
        child.emit(
            ModelCall(
                alias="local",
                model="m",
                messages=convo,
                text=f"{4 + i}",
                usage=Usage(input_tokens=4, output_tokens=1),
                latency_s=0.1,
            )
        )
        child.finish(status="completed", answer=f"{4 + i}")
    rec.emit(ToolCallEvent(name="vote", arguments={"candidates": ["4", "5"]}, result="5"))
    rec.emit(StepEvent(step=1, action="vote", observation="5"))
    rec.finish(status="completed", answer="5")

    traj = Trajectory.load(rec.path)
    run_id = log_trajectory(traj, uri=store)
    assert log_trajectory(rec.path, uri=store) == run_id  # same run, by path or object
    client = _client(store)
    run = client.get_run(run_id)
    assert run.data.params["solver"] == "best_of_2" and run.data.params["config.n"] == "2"
    assert run.data.metrics["model_calls"] == 2  # the recorder's totals include children
    kids = client.search_runs(
        [run.info.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{run_id}'"
    )
    assert len(kids) == 2 and {k.data.params["solver"] for k in kids} == {"candidate"}
    trace = client.get_trace(run.data.tags["forgekit.trace_id"])
    llm = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    # messages are rebuilt from the file's content-addressed blobs
    assert [s.inputs["messages"] for s in llm] == [[{"role": "user", "content": "2+3?"}]] * 2
    assert not [s for s in trace.data.spans if s.name.startswith("note")]


@pytest.mark.slow
@pytest.mark.integration
def test_a_real_local_model_run_in_mlflow(store: str, tmp_path: Path, local_gateway):
    from forgekit.trajectory import Recorder

    rec = Recorder.start(tmp_path / "runs", solver="plain", models=["local"])
    reply = local_gateway.complete("Say hello.", model="local", sink=rec, max_tokens=8)
    rec.finish(status="completed", answer=reply.text)
    run_id = log_trajectory(rec.path, uri=store)
    client = _client(store)
    run = client.get_run(run_id)
    assert run.data.metrics["model_calls"] == 1
    assert run.data.metrics["output_tokens"] == reply.usage.output_tokens > 0
    trace = client.get_trace(run.data.tags["forgekit.trace_id"])
    (span,) = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    assert span.outputs["choices"][0]["message"]["content"] == (reply.text or None)
    assert span.attributes["mlflow.chat.tokenUsage"]["output_tokens"] == reply.usage.output_tokens
