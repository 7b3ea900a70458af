"""Trajectories written before `RunTotals` existed load with the same totals."""

import shutil
from pathlib import Path

from forgekit.core import RunTotals
from forgekit.trajectory import Trajectory, TrajectoryStore

OLD = Path(__file__).parent / "data" / "run_v1"  # written by the recorder of Dec 2026


def test_an_old_trajectory_loads_with_its_recorded_totals(tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(OLD, runs)
    t = Trajectory.load("parent0000000001", runs)
    tot = t.totals()
    # counted from the events, children included: what the old RunEnd recorded
    assert (tot["model_calls"], tot["tool_calls"], tot["steps"]) == (3, 1, 1)
    assert (tot["input_tokens"], tot["output_tokens"], tot["total_tokens"]) == (15, 3, 18)
    assert abs(tot["cost_usd"] - 0.0015) < 1e-12 and abs(tot["latency_s"] - 0.85) < 1e-9
    assert tot["duration_s"] == 2.0 and tot["errors"] == 1
    ended = RunTotals.from_run_end(t.end)
    counted = t.run_totals()
    for k in ("model_calls", "tool_calls", "steps", "input_tokens", "output_tokens",
              "cost_usd", "duration_s"):
        assert abs(getattr(ended, k) - getattr(counted, k)) < 1e-12, k
    assert t.run_totals(children=False).model_calls == 1
    # the store's runs table reads the same file the same way
    row = TrajectoryStore(runs).runs().filter(run_id="parent0000000001").row(0, named=True)
    assert (row["model_calls"], row["total_tokens"], row["steps"]) == (3, 18, 1)
