import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from forgekit.core import RunEnd, RunStart, Sample, StepEvent
from forgekit.core.errors import ForgekitError
from forgekit.trajectory import Recorder, Trajectory
from tests.trajectory.trajectory_helpers import LoopSolver, record_run


def test_a_truncated_last_line_is_reported_and_the_run_is_interrupted(tmp_path):
    rec = Recorder.start(tmp_path, solver="s")
    for i in range(3):
        rec.emit(StepEvent(step=i, thought="ok"))
    # what a kill in the middle of os.write leaves behind: half a line, no newline
    with open(rec.path, "ab") as f:
        f.write(b'{"run_id":"x","seq":4,"type":"step","tho')
    t = Trajectory.load(rec.path)
    assert t.truncated and t.status == "interrupted" and t.end is None
    assert len(t.events) == 4 and isinstance(t.events[0], RunStart)
    assert any("truncated last line" in w and ":5:" in w for w in t.warnings)
    from forgekit.trajectory import TrajectoryStore

    runs = TrajectoryStore(tmp_path).runs()
    assert runs["truncated"].to_list() == [True] and runs["status"].to_list() == ["interrupted"]
    assert runs["n_events"].to_list() == [4]


def test_a_bad_line_in_the_middle_is_named_and_skipped(tmp_path):
    rec = Recorder.start(tmp_path)
    rec.emit(StepEvent(step=1))
    with open(rec.path, "ab") as f:
        f.write(b"garbage\n")
    rec.emit(StepEvent(step=2))
    rec.finish()
    t = Trajectory.load(rec.path)
    assert t.status == "completed" and not t.truncated
    assert [e.step for e in t.of_type(StepEvent)] == [1, 2]
    assert any(":3: unreadable line" in w for w in t.warnings)


WRITER = textwrap.dedent("""
    import sys
    from forgekit.core import StepEvent, ModelCall, Message
    from forgekit.trajectory import Recorder
    rec = Recorder.start(sys.argv[1], solver="killed", run_id="victim")
    i = 0
    while True:
        rec.emit(ModelCall(alias="local", messages=[Message.user("q" * 2000 + str(i))], text="a"))
        rec.emit(StepEvent(step=i, observation="x" * 5000))
        i += 1
        if i == 50:
            print("ready", flush=True)
""")


@pytest.mark.slow
def test_a_process_killed_mid_run_leaves_a_readable_interrupted_run(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"  # waits for 50 steps
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    t = Trajectory.load("victim", tmp_path)
    assert t.status == "interrupted" and t.end is None
    steps = t.of_type(StepEvent)
    assert len(steps) >= 50
    assert [s.step for s in steps] == list(range(len(steps)))
    # everything that was emitted is there, in order; at most a partial last line is lost
    assert [e.seq for e in t.events] == list(range(len(t.events)))
    assert all(w.startswith(str(t.path)) and "truncated" in w for w in t.warnings)
    assert t.truncated == bool(t.warnings)


def test_load_by_id_needs_the_runs_dir_and_says_where_it_looked(tmp_path):
    with pytest.raises(ForgekitError, match="no run 'nope'"):
        Trajectory.load("nope", tmp_path)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ForgekitError, match="not a trajectory"):
        Trajectory.load(tmp_path / "empty.jsonl")


def test_totals_tree_steps_and_html(tmp_path, gateway_factory):
    from forgekit.core.messages import ModelResponse, Usage

    replies = [
        ModelResponse(text=f"r{i}", usage=Usage(input_tokens=10, output_tokens=2)) for i in range(4)
    ]
    gw = gateway_factory(replies)
    gw.config.models.aliases["local"].price = None
    run_id = asyncio.run(
        record_run(LoopSolver(steps=3, child=True), Sample(id="s", input="x<y>"), gw, tmp_path)
    )
    t = Trajectory.load(run_id, tmp_path)
    tot = t.totals()
    assert tot["model_calls"] == 4 and tot["tool_calls"] == 3 and tot["steps"] == 3
    assert tot["input_tokens"] == 40 and tot["total_tokens"] == 48
    assert t.totals(children=False)["model_calls"] == 3
    steps = t.steps()
    assert [s.label for s in steps[:3]] == ["calc(0)", "calc(1)", "calc(2)"]
    assert steps[0].tokens == 12 and len(steps[0].events) == 3
    tree = t.tree().splitlines()
    assert tree[0].startswith(run_id) and tree[1].startswith("  ") and "loop/check" in tree[1]
    html = t._repr_html_()
    assert "<details>" in html and "request (2 messages)" in html and "x&lt;y&gt;" in html
    # later requests extend earlier ones: only the new messages are shown
    assert "request (4 messages; the first 2 as in call seq 1, new ones shown)" in html
    (child,) = t.children
    assert html.count("<tr>") == len(steps) + 1 + len(child.steps()) + 1
    assert "child run loop/check" in html and "$0.000000" in html
    assert isinstance(t.end, RunEnd)


def test_a_memory_sink_run_reads_as_a_trajectory(gateway_factory):
    from forgekit.core import Answer, MemorySink, RunContext

    sink = MemorySink()
    sink.emit(RunStart(solver="mem"))
    ctx = RunContext(gateway=gateway_factory(["a", "b"]), sink=sink, model="local")
    asyncio.run(ctx.complete("q"))
    child = ctx.child("sub")
    asyncio.run(child.complete("q2"))
    child.end(Answer(text="b"))
    ctx.end(Answer(text="a"))
    t = Trajectory.from_sink(sink)
    assert t.solver == "mem" and t.status == "completed" and t.answer == "a"
    assert t.totals()["model_calls"] == 2 and t.children[0].answer == "b"
    assert "<table>" in t._repr_html_()


def test_a_dropped_recorder_reads_as_interrupted(tmp_path):
    import gc

    rec = Recorder.start(tmp_path, solver="dropped")
    rec.emit(StepEvent(step=0))
    path = rec.path
    del rec
    gc.collect()
    t = Trajectory.load(path)
    assert t.status == "interrupted" and len(t.events) == 2 and not t.warnings
