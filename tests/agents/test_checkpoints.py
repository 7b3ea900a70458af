"""Durable checkpoints: a killed workflow resumes without repeating finished tool or model
calls, a pending approval is asked again, fork at step k with lineage, where runs part,
and a log that grows by one step's output per step."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forgekit.agents.checkpoints import checkpoint_path, fork, parting, read_log, resume
from forgekit.agents.graph import GraphBuilder, OutputMatches
from forgekit.agents.workflow import Workflow
from forgekit.trajectory import Trajectory
from tests.scripted import scripted_gateway

from .orchestration_helpers import Say, by_node, chain_graph, team, tick_workflow, ticker

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from tests.agents.orchestration_helpers import ticker, tick_workflow
from tests.scripted import scripted_gateway
gw, _ = scripted_gateway(ticker)
tick_workflow().run("tick three times", gw, workspace=sys.argv[1], runs_dir=sys.argv[2])
"""


def _wait_for(path: Path, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the workflow process ended early: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.05)


def test_killed_workflow_resumes_without_repeating_tool_or_model_calls(tmp_path: Path,
                                                                        monkeypatch):
    ws, runs, ticks = tmp_path / "ws", tmp_path / "runs", tmp_path / "ticks"
    ticks.mkdir()
    env = {**os.environ, "FK_TICKS": str(ticks), "FK_BLOCK_AT": "s3",
           "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(ws), str(runs)], env=env,
                            cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(ticks / "blocked", proc)  # step s3's tool call is in flight
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (ticks / "ticks.txt").read_text().split() == ["s1", "s2"]
    (log,) = runs.glob("*.checkpoints.jsonl")
    run_id = log.name.split(".")[0]
    assert Trajectory.load(run_id, runs).status == "interrupted"

    monkeypatch.setenv("FK_TICKS", str(ticks))
    monkeypatch.delenv("FK_BLOCK_AT", raising=False)
    gw, src = scripted_gateway(ticker)
    answer, new_id = resume(run_id, gw, runs_dir=runs, solver=tick_workflow())
    assert answer.stop_reason == "completed"
    # each tool ran exactly once across both processes; only s3's two model calls were made
    assert (ticks / "ticks.txt").read_text().split() == ["s1", "s2", "s3"]
    assert len(src.requests) == 2
    new = Trajectory.load(new_id, runs)
    assert new.start.tags == {"resumed_from": run_id}
    assert [c.start.tags["turn"] for c in new.children] == ["step:s3#1"]
    restored = [e.data["key"] for e in new.events
                if e.type == "note" and e.data.get("status") == "restored"]
    assert restored == ["snapshot#1", "step:s1#1", "step:s2#1"]
    assert new.end.model_calls == 2 and new.end.tool_calls == 1


class Crash(Exception):
    pass


def test_a_pending_approval_is_asked_again_after_a_crash(tmp_path: Path):
    plan = json.dumps({"steps": [{"id": "a", "description": "say a"}]})
    script = team(planner=["plan", plan], main="A")
    gw, _ = scripted_gateway(script)
    runs = tmp_path / "runs"

    def crash(request):
        raise Crash("the terminal went away while the human was reading")

    wf = Workflow(executor=Say("main"), reviewer=None, approval="ask").with_approver(crash)
    with pytest.raises(Crash):
        wf.run("t", gw, workspace=tmp_path / "ws", runs_dir=runs)
    assert script.counts == {"planner": 2}
    asked = []
    again = Workflow(executor=Say("main"), reviewer=None, approval="ask").with_approver(
        lambda r: asked.append(r) or True)
    answer, _ = resume(wf.last_run_id, gw, runs_dir=runs, solver=again)
    assert len(asked) == 1 and answer.stop_reason == "completed" and answer.text == "A"
    assert script.counts == {"planner": 2, "main": 1}  # the plan was restored, not re-made


def test_fork_at_step_k_reuses_the_steps_before_and_shows_where_runs_part(tmp_path: Path):
    runs = tmp_path / "runs"
    gw, _ = scripted_gateway(by_node({"a": "A", "b": "B", "c": "C"}))
    g = chain_graph("abc")
    g.run("go", gw, runs_dir=runs)
    first = g.last_run_id
    gw2, src2 = scripted_gateway(by_node({"a": "A", "b": "B2", "c": "C2"}))
    answer, forked = fork(first, step=1, gateway=gw2, runs_dir=runs)  # solver rebuilt from log
    assert answer.text == "C2"
    assert [r.messages[-1].content.split("]")[0] for r in src2.requests] == ["[b", "[c"]
    t = Trajectory.load(forked, runs)
    assert t.start.tags == {"forked_from": first, "fork_step": "1"}
    header, _ = read_log(checkpoint_path(runs, forked))
    assert header["lineage"] == {"run_id": first, "mode": "fork", "upto": 1}
    part = parting(first, forked, runs_dir=runs)
    assert part.index == 1 and part.left.key == part.right.key == "b#1"
    assert not part.child_diff.same and "text" in part.child_diff.fields
    assert parting(first, first, runs_dir=runs).index is None
    # a fork of the fork inherits through both logs
    gw3, src3 = scripted_gateway(by_node({"c": "C3"}))
    answer3, _ = fork(forked, step=2, gateway=gw3, runs_dir=runs)
    assert answer3.text == "C3" and len(src3.requests) == 1


def test_resumed_graph_restores_finished_nodes(tmp_path: Path):
    runs = tmp_path / "runs"
    gw, _ = scripted_gateway(by_node({"a": "A", "b": RuntimeError("provider down"), "c": "C"}))
    g = chain_graph("abc")
    with pytest.raises(Exception, match="provider down"):
        g.run("go", gw, runs_dir=runs)
    script = by_node({"a": "A", "b": "B", "c": "C"})
    gw2, _ = scripted_gateway(script)
    answer, new = resume(g.last_run_id, gw2, runs_dir=runs)
    assert answer.text == "C" and script.counts == {"b": 1, "c": 1}


def test_checkpoint_lines_stay_the_size_of_one_step(tmp_path: Path):
    """Twenty loop iterations with 2 kB outputs: every line is about one output's size
    (a log that copied the state so far would grow quadratically)."""
    runs = tmp_path / "runs"
    big = "x" * 2000
    gw, _ = scripted_gateway(by_node({"work": big, "check": "again"}))
    g = (GraphBuilder("long", max_iterations=10).node("work", Say("work"))
         .node("check", Say("check")).start("work").edge("work", "check")
         .edge("check", "work", when=OutputMatches("again")).build())
    g.run("go", gw, runs_dir=runs)
    lines = checkpoint_path(runs, g.last_run_id).read_text().splitlines()
    steps = [json.loads(x) for x in lines[1:]]
    assert len(steps) == 20 and [s["index"] for s in steps] == list(range(20))
    assert max(len(x) for x in lines[1:]) < 3000
