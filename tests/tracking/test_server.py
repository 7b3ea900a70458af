"""A real `mlflow server` on loopback: log over HTTP, read back (`forgekit ui`:
tests/cli/test_cmd_ui.py)."""

import os
import time
from pathlib import Path

import pytest

from forgekit.tracking import log_evaluation, log_trajectory, start_ui
from tests.tracking.recorded_runs import child_events, run_events, write_jsonl

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_log_to_a_real_server_and_read_back(store: str, tmp_path: Path):
    from mlflow.tracking import MlflowClient

    t0 = time.time() - 30
    path = write_jsonl(tmp_path / "runs" / "root.jsonl", run_events("root", t0=t0))
    write_jsonl(tmp_path / "runs" / "kid.jsonl", child_events("kid", "root", t0))
    with start_ui(uri=store) as ui:
        assert ui.url.startswith("http://127.0.0.1:") and ui.url in ui._repr_html_()
        run_id = log_trajectory(path, uri=ui.url)
        assert run_id is not None
        assert log_trajectory(path, uri=ui.url) == run_id  # idempotent over HTTP too
        parent = log_evaluation(
            "e",
            {"task_set": "t"},
            [{"params": {"model": "local"}, "metrics": {"accuracy": 0.5}}],
            uri=ui.url,
        )
        client = MlflowClient(ui.url)
        run = client.get_run(run_id)
        assert run.data.params["solver"] == "agent"
        assert run.data.metrics["total_tokens"] == 40
        local = client.download_artifacts(run_id, "trajectory/root.jsonl", str(tmp_path))
        assert Path(local).read_bytes() == path.read_bytes()
        exp = run.info.experiment_id
        kids = client.search_runs([exp], filter_string=f"tags.`mlflow.parentRunId` = '{run_id}'")
        assert [k.data.tags["forgekit.run_id"] for k in kids] == ["kid"]
        trace = client.get_trace(run.data.tags["forgekit.trace_id"])
        assert {s.span_type for s in trace.data.spans} >= {"AGENT", "CHAIN", "CHAT_MODEL", "TOOL"}
        assert client.get_run(parent).data.tags["mlflow.runName"] == "e"
        pid = ui.pid
    assert not ui.running()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the whole process group is gone
    # the server wrote to the configured SQLite store and the artifacts beside it
    assert MlflowClient(store).get_run(run_id).data.tags["forgekit.run_id"] == "root"
    assert any((tmp_path / ".forgekit" / "mlartifacts").rglob("root.jsonl"))
    # the experiment the server created takes runs logged to the SQLite file directly too
    other = write_jsonl(tmp_path / "runs2" / "b.jsonl", run_events("b", t0=t0))
    direct = log_trajectory(other, uri=store)
    assert direct is not None
    local = MlflowClient(store).download_artifacts(direct, "trajectory/b.jsonl", str(tmp_path))
    assert Path(local).read_bytes() == other.read_bytes()
