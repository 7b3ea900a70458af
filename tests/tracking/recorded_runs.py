"""Recorded runs for the tracking tests, built from core events as the recorder writes them."""

from __future__ import annotations

import time
from pathlib import Path

from forgekit.core.events import (
    ModelCall,
    RunEnd,
    RunStart,
    ScoreEvent,
    StepEvent,
    ToolCallEvent,
)
from forgekit.core.messages import Message, ToolCall, Usage


def run_events(
    run_id: str,
    *,
    parent: str | None = None,
    t0: float | None = None,
    solver: str = "agent",
    status: str = "completed",
) -> list:
    """A recorded agent run: one model call asking for a tool, the tool call, a step, a
    second model call answering, a score, the end."""
    t0 = time.time() - 60 if t0 is None else t0
    usage1, usage2 = (
        Usage(input_tokens=12, output_tokens=5),
        Usage(input_tokens=20, output_tokens=3),
    )
    q = [Message.system("You add numbers."), Message.user("What is 2 + 3?")]
    call = ToolCall(id="c1", name="add", arguments={"a": 2, "b": 3})
    return [
        RunStart(
            run_id=run_id,
            seq=0,
            ts=t0,
            parent_run_id=parent,
            solver=solver,
            config_hash="cfg123",
            config={"max_steps": 4, "prompt": "plain"},
            models=["local"],
            seed=7,
            sample_id="s1",
            epoch=0,
            versions={"forgekit": "0.1.0"},
            params={"temperature": 0.0},
            tags={"team": "evals"},
        ),
        ModelCall(
            run_id=run_id,
            seq=1,
            ts=t0 + 1.0,
            alias="local",
            model="openai/smollm2-135m-instruct",
            messages=q,
            tools=[{"type": "function", "function": {"name": "add"}}],
            text="",
            tool_calls=[call],
            usage=usage1,
            cost_usd=0.001,
            latency_s=0.8,
            finish_reason="tool_calls",
        ),
        ToolCallEvent(
            run_id=run_id,
            seq=2,
            ts=t0 + 1.2,
            call_id="c1",
            name="add",
            arguments={"a": 2, "b": 3},
            result="5",
            decision="allow",
            duration_s=0.1,
        ),
        StepEvent(
            run_id=run_id,
            seq=3,
            ts=t0 + 1.25,
            step=1,
            thought="use the tool",
            action="add(2, 3)",
            observation="5",
            cost_usd=0.001,
            tokens=17,
        ),
        ModelCall(
            run_id=run_id,
            seq=4,
            ts=t0 + 2.0,
            alias="local",
            model="openai/smollm2-135m-instruct",
            messages=[*q, Message.assistant(None, [call]), Message.tool("5", "c1", "add")],
            text="The answer is 5.",
            usage=usage2,
            cost_usd=0.002,
            latency_s=0.6,
            finish_reason="stop",
        ),
        ScoreEvent(
            run_id=run_id, seq=5, ts=t0 + 2.1, scorer="match", value=1.0, answer="5", target="5"
        ),
        RunEnd(
            run_id=run_id,
            seq=6,
            ts=t0 + 2.2,
            status=status,
            answer="5",
            error="boom" if status == "failed" else None,
            usage=usage1 + usage2,
            cost_usd=0.003,
            duration_s=2.2,
            model_calls=2,
            tool_calls=1,
            steps=1,
        ),
    ]


def child_events(run_id: str, parent: str, t0: float) -> list:
    """A small child run (a strategy's sub-run): one model call."""
    return [
        RunStart(
            run_id=run_id,
            seq=0,
            ts=t0 + 0.1,
            parent_run_id=parent,
            solver="candidate",
            models=["local"],
        ),
        ModelCall(
            run_id=run_id,
            seq=1,
            ts=t0 + 0.5,
            alias="local",
            model="m",
            messages=[Message.user("hi")],
            text="hello",
            usage=Usage(input_tokens=2, output_tokens=1),
            latency_s=0.3,
        ),
        RunEnd(
            run_id=run_id,
            seq=2,
            ts=t0 + 0.6,
            status="completed",
            answer="hello",
            usage=Usage(input_tokens=2, output_tokens=1),
            model_calls=1,
        ),
    ]


def write_jsonl(path: Path, events: list) -> Path:
    """Write events as the recorder does (message blobs and request deltas)."""
    from forgekit.trajectory.format import LineEncoder

    encoder = LineEncoder()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(encoder.encode(e) for e in events), encoding="utf-8")
    return path


def write_runs_folder(runs_dir: Path) -> None:
    """A runs folder of three runs: `a`, its child `a-kid`, and `b` in a dated subfolder."""
    t0 = time.time() - 30
    write_jsonl(runs_dir / "a.jsonl", run_events("a", t0=t0))
    write_jsonl(runs_dir / "a-kid.jsonl", child_events("a-kid", "a", t0))
    write_jsonl(runs_dir / "2026-11-21" / "b.jsonl", run_events("b", t0=t0 + 5))
