"""End to end on the real embedded model (SmolLM2-135M via llama.cpp): a calculator task,
recorded with the trajectory Recorder, then replayed with zero model calls.

The 135M model is weak, so the task is made trivial (the tool call is required through
`tool_choice`) and the assertions are on the machinery: a tool call happened and was
recorded with its policy decision, and the loop stopped with a recorded reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.agents import Agent, FunctionCallResult, MaxSteps
from forgekit.core import ModelResponse
from forgekit.models import Gateway, ScriptedSource

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def add(a: int, b: int) -> int:
    """Add two integers and return the sum."""
    return a + b


def _agent() -> Agent:
    return Agent(
        model="local",
        tools=[add],
        termination=FunctionCallResult("add") | MaxSteps(2),
        params={"max_tokens": 48, "tool_choice": {"type": "function", "function": {"name": "add"}}},
    )


def _replay_source(trajectory):
    try:
        from forgekit.trajectory import ReplaySource
    except ImportError:  # fallback: answer from the recorded ModelCall events in order
        return ScriptedSource(
            [
                ModelResponse(
                    text=e.text,
                    tool_calls=e.tool_calls,
                    usage=e.usage,
                    model=e.model,
                    finish_reason=e.finish_reason,
                )
                for e in trajectory.events
                if e.type == "model_call"
            ]
        )
    return ReplaySource(trajectory)


def test_local_model_calls_a_tool_recorded_and_replayed(local_gateway, tmp_path: Path):
    from forgekit.trajectory import Trajectory
    from forgekit.trajectory.recorder import Recorder

    agent = _agent()
    rec = Recorder.start(
        tmp_path / "runs", solver=agent.name, config=agent.config(), models=["local"]
    )
    answer = agent.run(
        "Use the add tool to add 2 and 3.", local_gateway, sink=rec, workspace=tmp_path / "ws"
    )
    assert answer.stop_reason, "the stop reason is recorded"
    traj = Trajectory.load(rec.path)
    calls = [e for e in traj.events if e.type == "tool_call"]
    assert calls, "the local model made a tool call"
    assert calls[0].name == "add" and calls[0].decision == "allow"
    assert traj.end is not None and traj.end.stop_reason == answer.stop_reason
    assert traj.end.model_calls >= 1 and traj.end.tool_calls == len(calls)

    source = _replay_source(traj)
    replay_gw = Gateway(local_gateway.config, source=source)
    replayed = _agent().run(
        "Use the add tool to add 2 and 3.", replay_gw, workspace=tmp_path / "ws2"
    )
    assert replayed.stop_reason == answer.stop_reason
    assert replayed.text == answer.text
    again = [(m.name, m.content) for m in replayed.messages if m.role == "tool"]
    assert again == [(c.name, c.result) for c in calls]
