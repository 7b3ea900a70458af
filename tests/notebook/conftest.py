"""Fixtures of the notebook layer: a small recorded run with a child, written by the real
trajectory Recorder."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.core.events import ModelCall, ScoreEvent, StepEvent, ToolCallEvent
from forgekit.core.messages import Message, Usage


def record_run(runs_dir: Path) -> Path:
    """A two-step agent run with a tool call, a score and one child run; its file."""
    from forgekit.trajectory import Recorder

    rec = Recorder.start(runs_dir, solver="agent", models=["local"], sample_id="s1")
    rec.emit(
        ModelCall(
            alias="local",
            model="smollm2",
            messages=[Message.user("What is 6*7?")],
            text="I will use the calculator",
            usage=Usage(input_tokens=12, output_tokens=6),
            cost_usd=0.0002,
            latency_s=0.4,
        )
    )
    rec.emit(
        ToolCallEvent(
            call_id="c1",
            name="calculator",
            arguments={"expr": "6*7"},
            result="42",
            decision="allow",
            duration_s=0.01,
        )
    )
    rec.emit(
        StepEvent(step=1, thought="need arithmetic", action="calculator(6*7)", observation="42")
    )
    child = rec.child("reviewer", models=["local"])
    child.emit(
        ModelCall(
            alias="local",
            model="smollm2",
            messages=[Message.user("check 42")],
            text="looks right",
            usage=Usage(input_tokens=5, output_tokens=2),
            cost_usd=0.0001,
            latency_s=0.2,
        )
    )
    child.finish(status="completed", answer="ok")
    rec.emit(
        ModelCall(
            alias="local",
            model="smollm2",
            messages=[Message.user("final?")],
            text="The answer is 42",
            usage=Usage(input_tokens=20, output_tokens=5),
            cost_usd=0.0003,
            latency_s=0.6,
        )
    )
    rec.emit(StepEvent(step=2, thought="done", action="answer", observation="The answer is 42"))
    rec.emit(ScoreEvent(scorer="exact", value=1.0, answer="42", target="42"))
    rec.finish(status="completed", answer="42")
    return rec.path


@pytest.fixture
def recorded_run(tmp_path: Path) -> Path:
    return record_run(tmp_path / "runs")
