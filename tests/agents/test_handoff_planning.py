"""Handoffs (chain, refused target, loop limit) and the MagenticOne-style planning loop
(progress, stall → re-plan, repeated failure), under scripted models."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from forgekit.agents import Agent
from forgekit.agents.handoff import HandoffTeam
from forgekit.agents.planning import PlanningLoop
from forgekit.core.component import build_component
from forgekit.trajectory import Trajectory
from tests.scripted import call, reply, scripted_gateway

from .orchestration_helpers import Say


def member(name: str) -> Agent:
    return Agent(model="m", name=name, instructions=f"You are agent {name}.")


def agent_of(request) -> str:
    return next(n for n in ("triage", "coder", "reviewer")
                if f"You are agent {n}." in (request.messages[0].content or ""))


def test_handoff_chain_each_turn_a_child_run(tmp_path: Path):
    def script(request):
        who = agent_of(request)
        if request.messages[-1].role == "tool":
            return reply("passing it on")
        if who == "triage":
            return reply("", call("handoff", {"to": "coder", "message": "it is a code bug"}))
        if who == "coder":
            if "handoff" not in json.dumps([t["function"]["name"] for t in request.tools]):
                raise AssertionError("the coder has no handoff tool")
            return reply("", call("handoff", {"to": "reviewer", "message": "fixed, check it"}))
        return reply("Looks right.")

    gw, src = scripted_gateway(script)
    team = HandoffTeam({"triage": member("triage"), "coder": member("coder"),
                        "reviewer": member("reviewer")}, start="triage")
    answer = team.run("The tests fail", gw, runs_dir=tmp_path)
    assert answer.text == "Looks right." and answer.stop_reason == "completed: reviewer answered"
    assert answer.metadata["chain"] == ["triage", "coder", "reviewer"]
    traj = Trajectory.load(team.last_run_id, tmp_path)
    assert [c.start.tags["agent"] for c in traj.children] == ["triage", "coder", "reviewer"]
    hops = [e.data for e in traj.events if e.type == "note" and e.kind == "handoff"]
    assert hops[0] == {"from": "triage", "to": "coder", "message": "it is a code bug", "hop": 1}
    # the receiver got the context message; the model saw only its teammates as targets
    assert "it is a code bug" in src.requests[1].messages[-1].content
    assert len(src.requests) == 3  # a handoff ends the turn: no call after it
    desc = src.requests[0].tools[0]["function"]["description"]
    assert "coder" in desc and "triage:" not in desc


def test_handoff_to_an_unknown_agent_is_an_observation_not_a_crash():
    def script(request):
        if request.messages[-1].role == "tool":
            if "ERROR" in (request.messages[-1].content or ""):
                return reply("", call("handoff", {"to": "coder", "message": "ok, you"}, id="2"))
            return reply("handed")
        if agent_of(request) == "triage":
            return reply("", call("handoff", {"to": "wizard", "message": "?"}))
        return reply("done by coder")

    gw, _ = scripted_gateway(script)
    team = HandoffTeam({"triage": member("triage"), "coder": member("coder")}, start="triage")
    answer = team.run("x", gw)
    assert answer.metadata["chain"] == ["triage", "coder"] and answer.text == "done by coder"


def test_handoff_loop_stops_at_the_limit_with_the_reason_recorded():
    def script(request):
        if request.messages[-1].role == "tool":
            return reply("passed")
        other = "coder" if agent_of(request) == "triage" else "triage"
        return reply("", call("handoff", {"to": other, "message": "yours"}))

    gw, _ = scripted_gateway(script)
    team = HandoffTeam({"triage": member("triage"), "coder": member("coder")}, start="triage",
                       max_handoffs=3)
    answer = team.run("ping-pong", gw)
    assert answer.stop_reason.startswith("handoff limit: 3 handoff(s) made "
                                         "(triage -> coder -> triage -> coder)")
    (note,) = [e for e in team.last_sink.events if e.type == "note" and e.kind == "handoff_limit"]
    assert note.data["refused_to"] == "triage"


def test_handoff_team_round_trips_with_roles():
    team = HandoffTeam({"plan": "planner", "code": "coder"}, start="plan", max_handoffs=2)
    back = build_component(yaml.safe_load(yaml.safe_dump(team.config())), kind="solver")
    assert back == team and back.members["code"].name == "coder"


# -- planning loop --------------------------------------------------------------------------
LEDGER = json.dumps({"facts": ["the task is small"], "plan": ["a does it"]})


def progress(done: bool, moving: bool = True, speaker: str = "a", answer: str = "") -> str:
    return json.dumps({"is_request_satisfied": done, "is_progress_being_made": moving,
                       "next_speaker": speaker, "instruction": "go", "final_answer": answer})


def orchestrator(ledgers: list[str], rounds: list[str]):
    seen = {"ledger": 0, "progress": 0}

    def answer(request):
        text = request.messages[-1].content or ""
        if text.startswith("[a]"):
            return "a's work"
        schema = "is_request_satisfied" in text
        kind = "progress" if schema else "ledger"
        seen[kind] += 1
        items = rounds if schema else ledgers
        return items[min(seen[kind], len(items)) - 1]

    answer.seen = seen  # type: ignore[attr-defined]
    return answer


def test_planning_loop_dispatches_until_satisfied(tmp_path: Path):
    script = orchestrator([LEDGER], [progress(False), progress(True, answer="42")])
    gw, _ = scripted_gateway(script)
    loop = PlanningLoop({"a": Say("a")})
    answer = loop.run("t", gw, runs_dir=tmp_path)
    assert answer.text == "42" and answer.stop_reason.startswith("completed")
    traj = Trajectory.load(loop.last_run_id, tmp_path)
    assert [c.start.tags["turn"] for c in traj.children] == [
        "ledger#1", "progress#1", "a#1", "progress#2"]


def test_stall_triggers_a_replan_then_progress_resumes():
    rounds = [progress(False), progress(False, moving=False), progress(False, moving=False),
              progress(False), progress(True, answer="done")]
    script = orchestrator([LEDGER, json.dumps({"facts": ["learned"], "plan": ["new"]})], rounds)
    gw, _ = scripted_gateway(script)
    loop = PlanningLoop({"a": Say("a")}, max_stalls=2)
    answer = loop.run("t", gw)
    assert answer.text == "done" and answer.metadata["replans"] == 1
    assert script.seen == {"ledger": 2, "progress": 5}
    replans = [e for e in loop.last_sink.events if e.type == "note" and e.kind == "replan"]
    assert len(replans) == 1 and replans[0].data["round"] == 3


def test_repeated_failure_stops_with_a_reason():
    script = orchestrator([LEDGER], [progress(False, moving=False)])
    gw, _ = scripted_gateway(script)
    loop = PlanningLoop({"a": Say("a")}, max_stalls=1, max_replans=2, max_rounds=20)
    answer = loop.run("t", gw)
    assert answer.stop_reason == "stopped: repeated failure, no progress after 2 re-plan(s)"
    assert script.seen["ledger"] == 3  # the first ledger and two re-plans


def test_unknown_speaker_counts_as_a_stall_and_max_rounds_stops():
    script = orchestrator([LEDGER], [progress(False, speaker="nobody")])
    gw, _ = scripted_gateway(script)
    loop = PlanningLoop({"a": Say("a")}, max_stalls=5, max_rounds=3)
    answer = loop.run("t", gw)
    assert answer.stop_reason.startswith("max_rounds: 3 round(s)")
    assert answer.metadata["turns"] == []
