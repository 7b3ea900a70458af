"""Crash leftovers: a run file is never empty (created with its RunStart in one write,
checked under real SIGKILLs); runs a crash left open are closed as interrupted and
superseded, and `runs list` hides them unless asked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from forgekit.core.events import ModelCall
from forgekit.core.messages import Usage
from forgekit.trajectory import Recorder, Trajectory, TrajectoryStore
from forgekit.trajectory.leftovers import SUPERSEDED, close_interrupted, is_open

LOOP = textwrap.dedent("""
    import sys
    from forgekit.trajectory import Recorder
    n = 0
    while True:
        rec = Recorder.start(sys.argv[1], solver="s", config={"k": "v" * 2000})
        n += 1
        if n == 50:
            print("GOING", flush=True)
        if n % 2:
            rec.finish(status="completed")
""")


def test_sigkill_never_leaves_an_empty_or_unreadable_run_file(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    script = tmp_path / "loop.py"
    script.write_text(LOOP)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, str(script), str(runs)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "GOING"
        time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    files = list(runs.glob("*.jsonl"))
    assert len(files) > 150
    assert all(p.stat().st_size > 0 for p in files)
    for p in files:
        assert Trajectory.load(p).start.solver == "s"


def test_open_runs_are_closed_as_interrupted_and_superseded(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    done = Recorder.start(runs, solver="s")
    done.finish(status="completed")
    open_run = Recorder.start(runs, solver="s", sample_id="a")
    open_run.emit(ModelCall(alias="m", usage=Usage(input_tokens=3, output_tokens=2),
                            cost_usd=0.25))
    os.close(open_run._fd)  # the process died here: no RunEnd
    open_run._fd = None
    torn = Recorder.start(runs, solver="s", sample_id="b")
    os.write(torn._fd, b'{"type": "model_call", "seq": 1, "tok')  # killed mid-write
    os.close(torn._fd)
    torn._fd = None
    (runs / "0123456789abcdef.jsonl").write_bytes(b"")  # left by an older forgekit
    assert is_open(open_run.path) and is_open(torn.path) and not is_open(done.path)

    closed = close_interrupted(runs, "eval x resumed")
    assert sorted(closed) == sorted([open_run.path, torn.path])
    assert not (runs / "0123456789abcdef.jsonl").exists()
    t = Trajectory.load(open_run.path)
    assert t.status == "interrupted" and t.end.stop_reason == f"{SUPERSEDED}: eval x resumed"
    assert t.end.cost_usd == 0.25 and t.end.model_calls == 1 and t.end.usage.total_tokens == 5
    assert Trajectory.load(torn.path).status == "interrupted"
    assert close_interrupted(runs, "again") == []  # closed once

    store = TrajectoryStore(runs)
    assert store.runs().height == 3
    assert store.runs(superseded=False)["run_id"].to_list() == [done.run_id]
    env = {**os.environ, "FORGEKIT_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "forgekit.cli.main", "runs", "--runs-dir",
                          str(runs), "list", "--format", "csv"], capture_output=True,
                         text=True, env=env, check=True).stdout
    assert done.run_id in out and open_run.run_id not in out
    out = subprocess.run([sys.executable, "-m", "forgekit.cli.main", "runs", "--runs-dir",
                          str(runs), "list", "--format", "csv", "--superseded"],
                         capture_output=True, text=True, env=env, check=True).stdout
    assert open_run.run_id in out


def test_a_run_that_dies_before_its_first_event_leaves_no_file(tmp_path, monkeypatch):
    def die(self, event):  # the process stops while encoding RunStart
        raise KeyboardInterrupt

    monkeypatch.setattr(Recorder, "_stamp", die)
    try:
        Recorder.start(tmp_path / "runs", solver="s", run_id="r1")
    except KeyboardInterrupt:
        pass
    assert not (tmp_path / "runs" / "r1.jsonl").exists()
