"""An agent using MCP tools: a scripted model drives the calls, a real SDK server runs
them; the calls go through the same policy, recording and redaction as native tools."""

from __future__ import annotations

import pytest

pytest.importorskip("mcp", reason="the mcp extra is not installed")

from forgekit.agents import Agent, FinalAnswer, MaxSteps, tool
from forgekit.agents.mcp import MCPHub
from forgekit.core import ToolCall
from forgekit.core.errors import ConfigError
from tests.agents.mcp_fixtures import stdio
from tests.scripted import reply, scripted_gateway


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    h = MCPHub({"servers": {"calc": stdio()}}, log_dir=tmp_path_factory.mktemp("mcp")).start()
    yield h
    h.close()


def test_agent_calls_mcp_tool_and_records_it(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_API_KEY", "sk-test-abcdefghijklmnop1234")
    gw, src = scripted_gateway(
        [
            reply(
                "",
                ToolCall(id="c1", name="add", arguments={"a": 2, "b": 3}),
                ToolCall(
                    id="c2", name="echo_secret", arguments={"text": "sk-test-abcdefghijklmnop1234"}
                ),
                ToolCall(id="c3", name="crash", arguments={}),
            ),
            reply("It is 5."),
        ]
    )
    agent = Agent(
        model="m",
        mcp=hub,
        policy={"rules": [{"tool": "calc.crash", "action": "deny", "reason": "no crashing"}]},
        termination=FinalAnswer() | MaxSteps(3),
    )
    answer = agent.run("2+3?", gw, workspace=tmp_path)
    assert answer.text == "It is 5."
    offered = {t["function"]["name"] for t in src.requests[0].tools}
    assert {"add", "divide", "echo_secret", "crash"} <= offered
    calls = {e.call_id: e for e in agent.last_sink.events if e.type == "tool_call"}
    add, echo, crash = calls["c1"], calls["c2"], calls["c3"]
    assert (add.server, add.name, add.arguments, add.result, add.decision) == (
        "calc",
        "add",
        {"a": 2, "b": 3},
        "5",
        "allow",
    )
    assert add.duration_s > 0
    assert "sk-test" not in echo.result and "[REDACTED]" in echo.result
    assert echo.arguments == {"text": "[REDACTED]"}
    assert crash.decision == "deny" and "no crashing" in crash.error
    assert hub.connections["calc"].state == "ready"  # the denied call never reached it
    assert agent.config()["mcp"]["type"] == "mcp_hub"
    with pytest.raises(ConfigError, match=r"give the agent the hub \(Agent\(mcp=hub\)\)"):
        Agent(model="m", tools=hub.tools()).config()


def test_mcp_name_colliding_with_a_native_tool_is_a_clear_error(hub, tmp_path):
    @tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    gw, _ = scripted_gateway([reply("done")])
    agent = Agent(model="m", tools=[add], mcp=hub)
    with pytest.raises(ConfigError, match="collide with the agent's own tools; set a prefix"):
        agent.run("2+3?", gw, workspace=tmp_path)


def test_recommender_ranks_mcp_tools(hub, tmp_path):
    gw, src = scripted_gateway([reply("done")])
    agent = Agent(model="m", mcp=hub, recommend_k=1)
    agent.run("divide the numbers", gw, workspace=tmp_path)
    assert [t["function"]["name"] for t in src.requests[0].tools] == ["divide"]


def test_agent_uses_the_project_hub_from_forgekit_yaml(project, tmp_path):
    import sys

    import yaml

    from forgekit.agents.mcp.hub import project_hub
    from tests.agents.mcp_fixtures import CALC

    servers = {"calc": {"command": sys.executable, "args": [CALC], "allow": ["add"]}}
    (project / "forgekit.yaml").write_text(yaml.safe_dump({"mcp": {"servers": servers}}))
    gw, src = scripted_gateway(
        [reply("", ToolCall(id="c1", name="add", arguments={"a": 40, "b": 2})), reply("42")]
    )
    agent = Agent(model="m", mcp=["calc"], termination=FinalAnswer() | MaxSteps(3))
    try:
        assert agent.run("40+2?", gw, workspace=tmp_path / "ws").text == "42"
        (call,) = [e for e in agent.last_sink.events if e.type == "tool_call"]
        assert (call.server, call.result) == ("calc", "42")
        assert [t["function"]["name"] for t in src.requests[0].tools] == ["add"]
        assert agent.config()["mcp"] == ["calc"]
        assert project_hub() is project_hub()  # one hub per project and process
    finally:
        project_hub().close()
