"""A run's MLflow metrics come from its totals: the RunEnd's (children included) where it
has them, its own events otherwise."""

import shutil
from pathlib import Path

import pytest

from forgekit.core import ModelCall, StepEvent, Usage
from forgekit.tracking.mapping import run_metrics
from forgekit.trajectory import Recorder, Trajectory

OLD = Path(__file__).parents[1] / "trajectory" / "data" / "run_v1"


def test_metrics_of_an_ended_run_use_its_recorded_totals(tmp_path):
    shutil.copytree(OLD, tmp_path / "runs")
    parent = Trajectory.load("parent0000000001", tmp_path / "runs")
    m = run_metrics(parent)
    assert (m["model_calls"], m["tool_calls"], m["steps"]) == (3, 1, 1)  # with the child's
    assert (m["input_tokens"], m["total_tokens"], m["duration_s"]) == (15, 18, 2.0)
    assert m["cost_usd"] == pytest.approx(0.0015)
    assert m["model_latency_s"] == 0.5 and m["mean_latency_s"] == 0.5  # its own calls
    child = run_metrics(parent.children[0])
    assert child["model_errors"] == 1 and child["model_calls"] == 2
    assert child["mean_latency_s"] == pytest.approx(0.175)


def test_metrics_of_an_interrupted_run_are_summed_from_its_events(tmp_path):
    rec = Recorder.start(tmp_path, solver="s")
    rec.emit(ModelCall(usage=Usage(input_tokens=4, output_tokens=1), cost_usd=0.5,
                       latency_s=0.2, cached=True, retries=2))
    rec.emit(StepEvent(step=1))
    del rec  # no RunEnd: read as interrupted
    [path] = tmp_path.glob("*.jsonl")
    m = run_metrics(Trajectory.load(path))
    assert (m["model_calls"], m["steps"], m["total_tokens"], m["cost_usd"]) == (1, 1, 5, 0.5)
    assert (m["cache_hits"], m["retries"], m["model_errors"]) == (1, 2, 0)
