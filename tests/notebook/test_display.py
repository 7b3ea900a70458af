"""Every main object renders live through the one mechanism (forgekit.core.display) and
keeps a static HTML fallback: EvalResults, Trajectory, StrategyResult, Agent, Index and a
running evaluation. With FORGEKIT_STATIC_DISPLAY=1 (where no widget can run) each gives
its static HTML only, and that HTML says what the live view says."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

WIDGET = "application/vnd.jupyter.widget-view+json"


def _agent(tmp_path: Path) -> tuple[Any, list[str]]:
    from forgekit.agents import Agent, FinalAnswer, MaxSteps, load_bundle
    from tests.scripted import scripted_gateway

    agent = Agent("m", bundles=[load_bundle("files")], name="helper", policy="headless-safe",
                  termination=FinalAnswer() | MaxSteps(3))
    gw, _ = scripted_gateway(["hello there"], aliases={"m": "openai/m"}, root=tmp_path,
                             api_base="http://x", max_retries=0)
    agent.run("say hi", gw)
    return agent, ["agent helper", "read_file", "headless-safe", "max_steps", "last run",
                   "hello there"]


def _trajectory(tmp_path: Path) -> tuple[Any, list[str]]:
    from forgekit.trajectory import Trajectory
    from tests.notebook.conftest import record_run

    return Trajectory.load(record_run(tmp_path / "runs")), [
        "score: exact = 1.0", "target: 42", "calculator", "What is 6*7?"]


def _strategy(tmp_path: Path) -> tuple[Any, list[str]]:
    from forgekit.core.samples import Answer
    from forgekit.quality.result import StrategyResult

    return StrategyResult(Answer(text="42", metadata={
        "strategy": "best_of_n", "strategy_name": "best-of-3", "chosen": 1, "calls": 3,
        "cost_usd": 0.0, "votes": {"42": 2, "41": 1},
        "candidates": [{"index": 0, "text": "41"}, {"index": 1, "text": "42"},
                       {"index": 2, "text": "42"}]})), ["best-of-3", "votes", "41"]


def _index(tmp_path: Path) -> tuple[Any, list[str]]:
    from forgekit.rag import Index
    from tests.rag.hash_embedder import SlowHashEmbedder

    idx = Index(["replay a recorded run", "budgets and caching"], name="docs",
                project_dir=tmp_path, embedder=SlowHashEmbedder(), keywords={"enabled": False})
    return idx, ["docs"]


def _results(tmp_path: Path) -> tuple[Any, list[str]]:
    from tests.notebook.conftest import two_solver_eval

    return two_solver_eval(tmp_path / "ev"), [
        "m1/exact vs m1/plain", "distinguishable from chance", "The answer is 2"]


def _running(tmp_path: Path) -> tuple[Any, list[str]]:
    from forgekit.notebook import evaluate_live
    from tests.notebook.conftest import two_solver_eval

    run = two_solver_eval(tmp_path / "live", run=evaluate_live)
    run.wait(timeout=60)
    deadline = time.monotonic() + 10
    while run.status != "done" and time.monotonic() < deadline:
        time.sleep(0.05)  # the done-callback runs on the worker thread
    return run, ["samples 16/16", "m1/exact"]


MAIN_OBJECTS = {"EvalResults": _results, "Trajectory": _trajectory,
                "StrategyResult": _strategy, "Agent": _agent, "Index": _index,
                "running eval": _running}


@pytest.mark.parametrize("name", list(MAIN_OBJECTS))
def test_main_object_renders_live_with_a_static_fallback(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    obj, texts = MAIN_OBJECTS[name](tmp_path)
    live = obj._repr_mimebundle_()
    assert WIDGET in live, f"{name} has no live view"
    assert live["text/plain"] == repr(obj)
    assert "<script" not in live["text/html"]  # the fallback is script-free
    for text in texts:
        assert text in live["text/html"], (name, text)
    monkeypatch.setenv("FORGEKIT_STATIC_DISPLAY", "1")
    static = obj._repr_mimebundle_()
    assert WIDGET not in static and static["text/html"] == live["text/html"]
