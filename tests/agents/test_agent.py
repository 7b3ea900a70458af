"""The agent loop under a scripted model: exact control of every step."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import BaseModel

from forgekit.agents import (
    Agent,
    CallbackFeedback,
    FunctionCallResult,
    MaxSteps,
    MaxTokens,
    StallDetected,
    TextMention,
)
from forgekit.core import (
    BudgetExceeded,
    EventBus,
    MemorySink,
    ModelResponse,
    RunContext,
    Sample,
    ToolCall,
    Usage,
)
from forgekit.core.config import Price
from tests.scripted import scripted_gateway


def call(name: str, args, id: str = "c1") -> ToolCall:
    return ToolCall(id=id, name=name, arguments=args)


def reply(text: str = "", *calls: ToolCall, tokens: int = 10) -> ModelResponse:
    return ModelResponse(
        text=text, tool_calls=list(calls), usage=Usage(input_tokens=tokens, output_tokens=tokens)
    )


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def events(agent: Agent, kind: str) -> list:
    return [e for e in agent.last_sink.events if e.type == kind]


def test_tool_step_then_final_answer(tmp_path: Path):
    gw, src = scripted_gateway([reply("adding", call("add", {"a": 2, "b": 3})), reply("It is 5.")])
    agent = Agent(model="m", tools=[add])
    answer = agent.run("2+3?", gw, workspace=tmp_path)
    assert answer.text == "It is 5."
    assert answer.stop_reason.startswith("final_answer")
    assert answer.usage.total_tokens == 40 and answer.metadata == {"steps": 2, "tool_calls": 1}
    assert src.requests[0].tools[0]["function"]["name"] == "add"
    tool_msg = src.requests[1].messages[-1]
    assert tool_msg.role == "tool" and tool_msg.content == "5" and tool_msg.tool_call_id == "c1"
    steps = events(agent, "step")
    assert (steps[0].thought, steps[0].action, steps[0].observation) == (
        "adding",
        'add({"a": 2, "b": 3})',
        "add: 5",
    )
    (tc,) = events(agent, "tool_call")
    assert (tc.name, tc.arguments, tc.result, tc.decision) == (
        "add",
        {"a": 2, "b": 3},
        "5",
        "allow",
    )
    assert tc.duration_s >= 0
    (end,) = events(agent, "run_end")
    assert end.stop_reason == answer.stop_reason and end.steps == 2 and end.tool_calls == 1
    traj = agent.trajectory()
    assert traj.end.stop_reason == answer.stop_reason and len(traj.tool_calls) == 1


def test_parallel_tool_calls_run_concurrently(tmp_path: Path):
    async def ping(env=None) -> str:
        """Set the flag, then wait for pong."""
        flags["ping"].set()
        await asyncio.wait_for(flags["pong"].wait(), 5)
        return "ping"

    async def pong() -> str:
        """Wait for ping, then set the flag."""
        await asyncio.wait_for(flags["ping"].wait(), 5)
        flags["pong"].set()
        return "pong"

    flags: dict = {}

    def fresh_flags(request):
        flags.update(ping=asyncio.Event(), pong=asyncio.Event())
        return reply("both", call("ping", {}, "a"), call("pong", {}, "b"))

    gw, _ = scripted_gateway([fresh_flags, reply("done")])
    agent = Agent(model="m", tools=[ping, pong])
    agent.run("go", gw, workspace=tmp_path)
    # each tool waits for the other: run one after the other, they would time out
    assert sorted((e.name, e.result, e.error) for e in events(agent, "tool_call")) == [
        ("ping", "ping", None),
        ("pong", "pong", None),
    ]


def test_bad_calls_become_error_observations(tmp_path: Path):
    gw, src = scripted_gateway(
        [
            reply(
                "",
                call("nope", {}, "a"),
                call("add", {"a": "x"}, "b"),
                call("add", "{not json", "c"),
            ),
            reply("", call("boom", {}, "d")),
            reply("gave up"),
        ]
    )

    def boom() -> str:
        """Always fails."""
        raise RuntimeError("kaput")

    agent = Agent(model="m", tools=[add, boom])
    answer = agent.run("x", gw, workspace=tmp_path)
    assert answer.text == "gave up"
    errs = [e.error for e in events(agent, "tool_call")]
    assert "unknown tool 'nope'" in errs[0] and "available tools: add, boom" in errs[0]
    assert "invalid arguments for add" in errs[1]
    assert "not valid JSON" in errs[2]
    assert errs[3] == "boom failed: RuntimeError: kaput"
    seen = [m.content for m in src.requests[1].messages if m.role == "tool"]
    assert all(s.startswith("ERROR: ") for s in seen) and len(seen) == 3


def test_policy_decisions_are_recorded_and_ask_goes_to_feedback(tmp_path: Path):
    script = [
        reply(
            "",
            call("run_command", {"command": "rm -rf /"}, "a"),
            call("run_command", {"command": "git push origin main"}, "b"),
            call("run_command", {"command": "echo hi"}, "c"),
        ),
        reply("ok"),
    ]
    gw, _ = scripted_gateway(script)
    agent = Agent(model="m", bundles=["shell"], parallel_tools=False)
    agent.run("x", gw, workspace=tmp_path)
    got = [(e.decision, e.error is None) for e in events(agent, "tool_call")]
    assert got == [("deny", False), ("ask-denied", False), ("allow", True)]
    first = events(agent, "tool_call")[0]
    assert "high risk" in first.decision_reason and "denied by policy" in first.error
    assert "headless run" in events(agent, "tool_call")[1].decision_reason
    asked = []
    gw, _ = scripted_gateway(script)
    agent = Agent(
        model="m",
        bundles=["shell"],
        parallel_tools=False,
        feedback=CallbackFeedback(lambda req: asked.append(req.tool) or True),
    )
    agent.run("x", gw, workspace=tmp_path)
    assert [e.decision for e in events(agent, "tool_call")] == ["deny", "ask-approved", "allow"]
    assert asked == ["run_command"]
    assert events(agent, "tool_call")[1].result.startswith("exit code")  # it ran


def test_a_failing_feedback_provider_denies_the_call_and_the_run_goes_on(tmp_path: Path):
    def broken(req):
        raise RuntimeError("reviewer offline")

    script = [reply("", call("run_command", {"command": "git push origin main"})), reply("ok")]
    gw, _ = scripted_gateway(script)
    agent = Agent(
        model="m", bundles=["shell"], parallel_tools=False, feedback=CallbackFeedback(broken)
    )
    assert agent.run("x", gw, workspace=tmp_path).text == "ok"
    (event,) = events(agent, "tool_call")
    assert event.decision == "ask-denied" and event.result is None
    assert "reviewer offline" in event.error


def test_hooks_fire_and_a_failing_subscriber_is_not_fatal(tmp_path: Path):
    gw, _ = scripted_gateway([reply("", call("add", {"a": 1, "b": 1})), reply("2")])
    bus = EventBus()
    seen = []
    for hook in ("on_run_start", "on_step_done", "on_model_query", "on_tool_call", "on_run_end"):
        bus.subscribe(hook, lambda *a, _h=hook, **k: seen.append(_h))

    async def broken(*a, **k):
        raise ValueError("subscriber bug")

    bus.subscribe("on_tool_call", broken)
    answer = Agent(model="m", tools=[add]).run("1+1", gw, workspace=tmp_path, bus=bus)
    assert answer.text == "2"
    assert seen == [
        "on_run_start",
        "on_model_query",
        "on_tool_call",
        "on_step_done",
        "on_model_query",
        "on_step_done",
        "on_run_end",
    ]
    assert bus.errors and "subscriber bug" in bus.errors[0][1]


@pytest.mark.parametrize(
    "termination,script,expected",
    [
        (MaxSteps(2), [reply("", call("add", {"a": 1, "b": 1}))] * 3, "max_steps"),
        (StallDetected(3), [reply("", call("add", {"a": 1, "b": 1}))] * 5, "stall"),
        (MaxTokens(30), [reply("", call("add", {"a": 1, "b": 1}))] * 5, "max_tokens"),
        (FunctionCallResult("add"), [reply("", call("add", {"a": 1, "b": 1}))], "function_call"),
        (TextMention("DONE") | MaxSteps(5), [reply("thinking"), reply("DONE")], "text_mention"),
    ],
)
def test_stop_reasons(tmp_path: Path, termination, script, expected):
    gw, src = scripted_gateway(script)
    answer = Agent(model="m", tools=[add], termination=termination).run("x", gw, workspace=tmp_path)
    assert answer.stop_reason.startswith(expected)
    if expected == "text_mention":  # a text reply without DONE gets a nudge, not a stop
        assert src.requests[1].messages[-1].content.startswith("Continue the task")


def test_budget_exceeded_stops_with_reason(tmp_path: Path):
    gw, _ = scripted_gateway([reply("", call("add", {"a": 1, "b": 1})), BudgetExceeded("out of money")])
    agent = Agent(model="m", tools=[add])
    answer = agent.run("x", gw, workspace=tmp_path)
    assert answer.stop_reason.startswith("budget_exceeded")
    assert events(agent, "run_end")[0].status == "budget-exceeded"


def test_text_fallback_for_models_without_function_calling(tmp_path: Path):
    gw, src = scripted_gateway(
        [
            reply('```json\n{"tool": "add", "arguments": {"a": 4, "b": 5}}\n```'),
            reply('```json\n{"tool": "add", "arguments": {"a": 4\n```'),
            reply("The sum is 9."),
        ],
        supports_tools=False,
    )
    agent = Agent(model="m", tools=[add])
    answer = agent.run("4+5?", gw, workspace=tmp_path)
    assert answer.text == "The sum is 9."
    assert src.requests[0].tools is None
    assert '"tool": "<tool name>"' in src.requests[0].messages[0].content
    obs = src.requests[1].messages[-1]
    assert obs.role == "user" and "Observation from add:\n9" in obs.content
    assert "could not parse" in src.requests[2].messages[-1].content
    assert events(agent, "tool_call")[0].result == "9"


class City(BaseModel):
    name: str
    population: int


def test_structured_output_is_revised(tmp_path: Path):
    gw, src = scripted_gateway(
        [
            reply("Paris is big."),
            reply('{"name": "Paris", "population": "many"}'),
            reply('```json\n{"name": "Paris", "population": 2100000}\n```'),
        ]
    )
    agent = Agent(model="m", output_schema=City)
    answer = agent.run("Biggest French city?", gw)
    assert answer.data == City(name="Paris", population=2100000)
    assert "population" in src.requests[2].messages[-1].content  # the error went back
    notes = [e for e in events(agent, "note") if e.kind == "structured_revision"]
    assert len(notes) == 1


def test_history_processors_trim_what_the_model_sees(tmp_path: Path):
    gw, src = scripted_gateway(
        [reply("", call("add", {"a": 1, "b": i}, f"c{i}")) for i in range(3)] + [reply("end")]
    )
    agent = Agent(model="m", tools=[add], history=[{"type": "last_n_observations", "n": 1}])
    answer = agent.run("x", gw, workspace=tmp_path)
    seen = [m.content for m in src.requests[3].messages if m.role == "tool"]
    assert seen[:2] == ["[older observation elided: 1 characters]"] * 2 and seen[2] == "3"
    assert [m.content for m in answer.messages if m.role == "tool"] == ["1", "2", "3"]


def test_solve_in_a_runner_context_and_sync_run_inside_a_loop(tmp_path: Path):
    gw, _ = scripted_gateway(
        [
            reply("", call("add", {"a": 1, "b": 2})),
            reply("3"),
            reply("", call("add", {"a": 1, "b": 2})),
            reply("3"),
        ]
    )
    agent = Agent(model="m", tools=[add])

    async def main():
        sink = MemorySink()
        ctx = RunContext(gateway=gw, sink=sink, workspace=tmp_path)
        a = await agent.solve(Sample(id="s1", input="1+2", files={"in.txt": "x"}), ctx)
        assert (tmp_path / "in.txt").read_text() == "x"
        b = agent.run("1+2", gw, workspace=tmp_path)  # sync edge inside a running loop
        return a, b, sink

    a, b, sink = asyncio.run(main())
    assert a.text == b.text == "3"
    assert [e.type for e in sink.events][-1] == "note"  # solve leaves RunEnd to the runner
    assert "termination" not in agent.config()  # the default is not spelled out
    assert agent.termination.config()["type"] == "or"


def test_recommend_k_limits_the_tools_offered(tmp_path: Path):
    def weather(city: str) -> str:
        """Get the weather forecast for a city."""
        return "sunny"

    gw, src = scripted_gateway([reply("sunny")])
    Agent(model="m", tools=[add, weather], bundles=["files"], recommend_k=1).run(
        "weather forecast for Oslo", gw, workspace=tmp_path
    )
    assert [t["function"]["name"] for t in src.requests[0].tools] == ["weather"]


def test_policy_comes_from_the_project_config(tmp_path: Path):
    gw, _ = scripted_gateway([reply("", call("run_command", {"command": "echo hi"})), reply("ok")])
    gw.config.policy = {
        "preset": "headless-safe",
        "rules": [
            {"tool": "run_command", "command": "echo", "action": "deny", "reason": "no echo here"}
        ],
    }
    agent = Agent(model="m", bundles=["shell"])
    agent.run("x", gw, workspace=tmp_path)
    (tc,) = events(agent, "tool_call")
    assert tc.decision == "deny" and "no echo here" in tc.decision_reason


def test_budget_in_usd_and_timeout_conditions(tmp_path: Path):
    from forgekit.agents import MaxCost, Timeout

    gw, _ = scripted_gateway(
        [reply("", call("add", {"a": 1, "b": 1}), tokens=1000)] * 4,
        price=Price(input_per_1k=1.0, output_per_1k=1.0),
    )
    answer = Agent(model="m", tools=[add], termination=MaxCost(3.0)).run("x", gw, workspace=tmp_path)
    assert answer.stop_reason.startswith("max_cost:") and answer.cost_usd == pytest.approx(4.0)
    gw, _ = scripted_gateway([reply("", call("add", {"a": 1, "b": 1}))] * 2)
    answer = Agent(model="m", tools=[add], termination=Timeout(0)).run("x", gw, workspace=tmp_path)
    assert answer.stop_reason.startswith("timeout") and answer.metadata["steps"] == 1


def test_custom_system_prompt_template_from_a_path(tmp_path: Path):
    tpl = tmp_path / "mine.j2"
    tpl.write_text("You are Bob. Tools: {{ tools | map(attribute='name') | join(', ') }}")
    gw, src = scripted_gateway([reply("hi")])
    Agent(model="m", tools=[add], system_prompt=tpl).run("x", gw, workspace=tmp_path)
    assert src.requests[0].messages[0].content == "You are Bob. Tools: add"


def test_single_structured_call_gives_up_after_the_limit(tmp_path: Path):
    from forgekit.agents import StructuredOutputError, complete_structured

    gw, src = scripted_gateway([reply("no json"), reply('{"name": 1}')])
    ctx = RunContext(gateway=gw, model="m")
    with pytest.raises(StructuredOutputError, match="after 1 revision") as e:
        asyncio.run(complete_structured(ctx, "city?", City, max_revisions=1))
    assert "population" in e.value.errors and len(src.requests) == 2


def test_a_crashing_model_ends_the_run_as_failed_with_the_error(tmp_path: Path):
    from forgekit.core.errors import ModelError

    gw, _ = scripted_gateway([reply("", call("add", {"a": 1, "b": 1})), ModelError("server gone")])
    agent = Agent(model="m", tools=[add])
    with pytest.raises(ModelError):
        agent.run("x", gw, workspace=tmp_path)
    kinds = [e.type for e in agent.last_sink.events]
    assert kinds.count("tool_call") == 1 and kinds.count("step") == 1  # finished work kept
    end = events(agent, "run_end")[0]
    assert end.status == "failed" and "server gone" in end.error


def test_approve_with_edited_arguments_runs_the_edit_and_tells_the_model(tmp_path: Path):
    from forgekit.agents import Approval

    script = [
        reply("", call("run_command", {"command": "git push origin main"}, "a")),
        reply("", call("run_command", {"command": "git push origin dev"}, "b")),
        reply("done"),
    ]
    asked = []

    def review(req):
        asked.append(req.arguments["command"])
        if "dev" in req.arguments["command"]:  # an edit into a call the policy denies
            return Approval(approved=True, arguments={"command": "rm -rf /"}, reason="oops")
        return Approval(approved=True, arguments={"command": "echo pushed"}, reason="dry run")

    gw, src = scripted_gateway(script)
    agent = Agent(
        model="m", bundles=["shell"], parallel_tools=False, feedback=CallbackFeedback(review)
    )
    agent.run("x", gw, workspace=tmp_path)
    first, second = events(agent, "tool_call")
    assert first.decision == "ask-approved" and first.arguments == {"command": "echo pushed"}
    assert "pushed" in first.result and "the model asked for" in first.decision_reason
    assert "git push origin main" in first.decision_reason
    seen = [m.content for m in src.requests[1].messages if m.role == "tool"]
    assert seen[0].startswith("(the reviewer edited your call to run_command(")
    assert asked == ["git push origin main", "git push origin dev"]
    assert second.decision == "deny" and second.result is None
    assert "denied by policy" in second.error and "edited call" in second.decision_reason


def test_cli_feedback_edit_takes_json_arguments():
    import asyncio as aio
    import io

    from forgekit.agents.feedback import ApprovalRequest, CLIFeedback

    answers = iter(["e", '{"command": "echo hi"}', "edit", "not json", "e", "[1]"])
    fb = CLIFeedback(input_fn=lambda prompt: next(answers), output=io.StringIO())
    req = ApprovalRequest(tool="run_command", arguments={"command": "ls"})
    ok = aio.run(fb.approve(req))
    assert ok.approved and ok.arguments == {"command": "echo hi"}
    bad = aio.run(fb.approve(req))
    assert not bad.approved and "not valid JSON" in bad.reason
    notdict = aio.run(fb.approve(req))
    assert not notdict.approved and "JSON object" in notdict.reason


def test_timeout_interrupts_a_slow_step_and_kills_its_process(tmp_path: Path):
    import time

    from forgekit.agents import Timeout
    from forgekit.agents.termination import hard_deadline_s

    assert hard_deadline_s(MaxSteps(3) | Timeout(5) | (Timeout(1) & MaxSteps(1))) == 5
    assert hard_deadline_s(Timeout(1) & MaxSteps(1)) is None
    marker = tmp_path / "still-running"
    script = [
        reply("", call("run_command", {"command": f"sleep 30; touch {marker.name}"})),
        reply("never asked"),
    ]
    gw, src = scripted_gateway(script)
    agent = Agent(
        model="m", bundles=["shell"], termination=Timeout(1.0) | MaxSteps(5), parallel_tools=False
    )
    t0 = time.monotonic()
    answer = agent.run("x", gw, workspace=tmp_path)
    assert time.monotonic() - t0 < 10
    assert answer.stop_reason.startswith("timeout:")
    assert "interrupted during step 1" in answer.stop_reason
    assert len(src.requests) == 1  # no further model call after the deadline
    time.sleep(0.5)
    assert not marker.exists()


def test_scratch_workspace_is_recorded_as_temporary_and_removed(tmp_path: Path):
    import tempfile

    def where(env=None) -> str:
        """Report the workspace."""
        return str(env.workspace)

    before = set(Path(tempfile.gettempdir()).glob("forgekit-ws-*"))
    gw, _ = scripted_gateway([reply("", call("where", {})), reply("done")])
    agent = Agent(model="m", tools=[where])
    answer = agent.run("where am I?", gw)
    assert answer.text == "done"
    start = events(agent, "note")[0]
    assert start.kind == "agent_start" and start.data["workspace"] == "(temporary)"
    assert set(Path(tempfile.gettempdir()).glob("forgekit-ws-*")) == before
