"""End to end: an agent on the real embedded model (SmolLM2-135M via llama.cpp) calls a
tool of a real MCP server (stdio), recorded by the trajectory Recorder.

The tool call is required through `tool_choice`, and only the machinery is asserted (the
135M model's arguments vary between machines): the call reached the server or failed
validation with a clear error, and the recorded event names the server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("mcp", reason="the mcp extra is not installed")

from forgekit.agents import Agent, FunctionCallResult, MaxSteps
from forgekit.agents.mcp import MCPHub
from tests.agents.mcp_fixtures import stdio

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_local_model_calls_an_mcp_tool(local_gateway, tmp_path: Path):
    from forgekit.trajectory import Trajectory
    from forgekit.trajectory.recorder import Recorder

    with MCPHub({"servers": {"calc": stdio(allow=["add"])}}, log_dir=tmp_path) as hub:
        agent = Agent(
            model="local",
            mcp=hub,
            termination=FunctionCallResult("add") | MaxSteps(2),
            params={
                "max_tokens": 48,
                "tool_choice": {"type": "function", "function": {"name": "add"}},
            },
        )
        rec = Recorder.start(tmp_path / "runs", solver=agent.name, config=agent.config())
        answer = agent.run(
            "Use the add tool to add 2 and 3.", local_gateway, sink=rec, workspace=tmp_path / "ws"
        )
    traj = Trajectory.load(rec.path)
    calls = [e for e in traj.events if e.type == "tool_call"]
    assert calls, "the local model made a tool call"
    first = calls[0]
    assert (first.name, first.server, first.decision) == ("add", "calc", "allow")
    assert isinstance(first.arguments, dict) and first.duration_s > 0
    # either the server answered, or the arguments failed the server's schema, clearly
    assert first.result is not None or "invalid arguments for add" in (first.error or "")
    if first.result is not None and first.error is None:
        a, b = first.arguments["a"], first.arguments["b"]
        assert first.result == str(a + b)  # computed by the server, not by the model
    assert traj.end is not None and traj.end.stop_reason == answer.stop_reason
    assert traj.end.tool_calls == len(calls)
