"""plan → approve → execute → review → deliver, under scripted models: approve / reject /
edit, review fail → fix → pass, review by running the workspace's tests, skipped stages,
delivery as a diff, and the config round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from forgekit.agents.checks import Checks
from forgekit.agents.feedback import Approval
from forgekit.agents.plans import Plan
from forgekit.agents.workflow import Workflow
from forgekit.core.component import build_component, config_hash
from forgekit.trajectory import Trajectory
from tests.scripted import call, last_user, reply, scripted_gateway

from .orchestration_helpers import Say, by_node, team

PLAN = {
    "goal": "an add function",
    "steps": [
        {"id": "code", "description": "Write add(a, b) in add.py"},
        {"id": "test", "description": "Write test_add.py", "depends_on": ["code"]},
    ],
    "acceptance_criteria": ["python test_add.py exits 0"],
    "estimated_cost_usd": 0.01,
}
FILES = {
    "code": ("add.py", "def add(a, b):\n    return a + b\n"),
    "test": ("test_add.py", "from add import add\nassert add(2, 3) == 5\n"),
}


def coder(request) -> object:
    """Writes the file of the step it is given, then says so."""
    if request.messages[-1].role == "tool":
        return "done"
    text = last_user(request)
    if "Fix this" in text:
        return reply("", call("write_file", {"path": "add.py",
                                             "content": '"""Adds."""\n' + FILES["code"][1]}))
    step = text.rsplit("Your step now: [", 1)[1].split("]")[0]
    path, content = FILES[step]
    return reply("", call("write_file", {"path": path, "content": content}))


def test_approved_plan_runs_reviewed_and_fixed_then_delivers_a_diff(tmp_path: Path):
    script = team(
        planner=["I will plan.", json.dumps(PLAN)],
        coder=coder,
        reviewer=["Reading.", '{"passed": false, "feedback": "add a docstring"}',
                  "Reading again.", '{"passed": true}'],
    )
    gw, _ = scripted_gateway(script)
    asked = []
    wf = Workflow(approval="ask", deliver="diff", max_review_rounds=2).with_approver(
        lambda request: asked.append(request) or True)
    ws = tmp_path / "ws"
    answer = wf.run("Write add()", gw, workspace=ws, runs_dir=tmp_path / "runs")
    assert answer.stop_reason == "completed" and answer.data["passed"] is True
    assert len(asked) == 1 and asked[0].arguments["steps"][0]["id"] == "code"
    assert (ws / "add.py").read_text().startswith('"""Adds."""')
    assert "+++ b/add.py" in answer.text and "+++ b/test_add.py" in answer.text
    assert answer.metadata["review_rounds"] == 2
    traj = Trajectory.load(wf.last_run_id, tmp_path / "runs")
    turns = [c.start.tags["turn"] for c in traj.children]
    assert turns == ["plan#1", "step:code#1", "step:test#1", "review#1", "fix#1", "review#2"]
    assert traj.end.tool_calls == 3 and traj.status == "completed"
    stages = [(e.data["stage"], e.data["status"]) for e in traj.events
              if e.type == "note" and e.kind == "workflow_step" and "stage" in e.data]
    assert ("approve", "done") in stages and ("review", "fixing") in stages


def test_rejected_plan_stops_before_any_execution(tmp_path: Path):
    script = team(planner=["plan", json.dumps(PLAN)], coder=coder)
    gw, _ = scripted_gateway(script)
    wf = Workflow(approval="ask", reviewer=None).with_approver(
        lambda request: (False, "too expensive"))
    answer = wf.run("Write add()", gw, workspace=tmp_path)
    assert answer.stop_reason == "plan rejected: too expensive"
    assert "coder" not in script.counts and not (tmp_path / "add.py").exists()
    assert wf.last_run.stages["approve"] == "rejected"
    assert wf.last_run.stages["execute"] == "pending"


def test_headless_ask_and_deny_refuse_auto_approves(tmp_path: Path):
    for approval, ok in (("ask", False), ("deny", False), ("auto", True)):
        gw, _ = scripted_gateway(team(planner=["plan", json.dumps(PLAN)], coder=coder))
        answer = Workflow(approval=approval, reviewer=None).run("x", gw, workspace=tmp_path / approval)
        assert (answer.stop_reason == "completed") is ok, approval


def test_approval_with_an_edited_plan_runs_the_edited_plan(tmp_path: Path):
    gw, _ = scripted_gateway(team(planner=["plan", json.dumps(PLAN)], coder=coder))
    edited = {**PLAN, "steps": PLAN["steps"][:1]}
    wf = Workflow(approval="ask", reviewer=None).with_approver(
        lambda r: Approval(approved=True, reason="only the code", arguments=edited))
    answer = wf.run("x", gw, workspace=tmp_path)
    assert list(answer.metadata["steps"]) == ["code"] and not (tmp_path / "test_add.py").exists()


def test_review_by_running_the_workspace_tests(tmp_path: Path):
    """Checks runs a real subprocess: the first review fails on the missing function, the
    fix turn writes it, the second passes."""
    calls = {"n": 0}

    def writer(request):
        if request.messages[-1].role == "tool":
            return "done"
        calls["n"] += 1
        # the same length as the fix: a stale .pyc of it would hide the fix from the review
        content = "def add(a, b):\n    return a - b\n" if calls["n"] == 1 else FILES["code"][1]
        return reply("", call("write_file", {"path": "add.py", "content": content}))

    gw, _ = scripted_gateway(team(coder=writer))
    (tmp_path / "test_add.py").write_text(FILES["test"][1])
    wf = Workflow(planner=None, approval="skip", reviewer=Checks("python3 test_add.py"),
                  deliver="files")
    answer = wf.run("Write add()", gw, workspace=tmp_path)
    assert answer.stop_reason == "completed" and answer.metadata["review_rounds"] == 2
    first = wf.last_run.reviews[0]
    assert not first.passed and "AssertionError" in first.feedback
    assert answer.text == "add.py" and answer.data["files"]["add.py"] == FILES["code"][1]
    assert wf.last_run.stages["plan"] == "skipped" and wf.last_run.stages["approve"] == "skipped"


def test_review_gives_up_after_the_fix_limit(tmp_path: Path):
    gw, _ = scripted_gateway(team(x="did it"))
    wf = Workflow(planner=None, executor=Say("x"), reviewer=Checks("exit 3"),
                  max_review_rounds=1)
    answer = wf.run("t", gw, workspace=tmp_path)
    assert answer.stop_reason.startswith("review failed after 1 fix round(s)")
    assert answer.data["passed"] is False and answer.metadata["review_rounds"] == 2


def test_a_step_goes_to_its_role_and_a_bad_plan_is_a_recorded_failure(tmp_path: Path):
    plan = {"steps": [{"id": "a", "description": "say a", "role": "writer"},
                      {"id": "b", "description": "say b"}]}
    script = by_node({"writer": "A", "main": "B", "planner": "not json at all"})
    gw, _ = scripted_gateway(script)
    wf = Workflow(planner=None, plan=plan, executor=Say("main"), roles={"writer": Say("writer")},
                  reviewer=None)
    assert wf.run("t", gw, workspace=tmp_path).text == "B"
    assert script.counts == {"writer": 1, "main": 1}
    bad = Workflow(planner=Say("planner"), executor=Say("main"), reviewer=None)
    answer = bad.run("t", gw, workspace=tmp_path)
    assert answer.stop_reason.startswith("planning failed: the planner gave no valid plan")


def test_workflow_round_trips_through_yaml():
    wf = Workflow(planner="planner", executor="coder", roles={"tester": "tester"},
                  reviewer=Checks("python -m pytest -q"), approval="ask", deliver="diff",
                  plan=Plan.model_validate(PLAN))
    cfg = wf.config()
    back = build_component(yaml.safe_load(yaml.safe_dump(cfg)), kind="solver")
    assert back == wf and config_hash(back) == config_hash(wf)
    assert back.roles["tester"].name == "tester" and back.fixed_plan.steps[1].id == "test"


def test_recorded_workflow_replays_with_zero_model_calls(tmp_path: Path):
    import shutil

    from forgekit.models import Gateway
    from forgekit.trajectory import ReplaySource, diff

    script = team(planner=["I will plan.", json.dumps(PLAN)], coder=coder,
                  reviewer=["Reading.", '{"passed": true}'])
    gw, _ = scripted_gateway(script)
    ws, runs = tmp_path / "ws", tmp_path / "runs"

    def fresh() -> Workflow:
        shutil.rmtree(ws, ignore_errors=True)
        return Workflow(reviewer="reviewer", deliver="diff")

    wf = fresh()
    first = wf.run("Write add()", gw, workspace=ws, runs_dir=runs)
    traj = Trajectory.load(wf.last_run_id, runs)
    source = ReplaySource(traj)
    wf2 = fresh()
    again = wf2.run("Write add()", Gateway(gw.config, source=source), workspace=ws,
                    runs_dir=runs)
    assert source.served == traj.end.model_calls == 8 and source.remaining == 0
    assert again.text == first.text and again.stop_reason == first.stop_reason
    d = diff(traj, Trajectory.load(wf2.last_run_id, runs))
    assert d.same, d.summary()


def test_workflow_is_evaluated_beside_an_agent_with_a_paired_comparison(tmp_path: Path):
    from forgekit.evals import evaluate
    from forgekit.evals.suite import Suite

    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps({"id": f"t{i}", "input": "write add",
                                         "target": "def add"}) + "\n" for i in range(3)))

    def reply_of(request):
        if (request.messages[-1].content or "").startswith("[main]"):
            return "def add(a, b): return a + b"
        return "I cannot."

    gw, _ = scripted_gateway(reply_of)
    suite = Suite.model_validate({
        "name": "wf-vs-agent", "taskset": {"path": str(tasks)}, "models": ["m"],
        "solvers": [
            {"name": "agent", "type": "agent", "options": {"model": "m"}},
            {"name": "workflow", "type": "workflow", "options": {
                "planner": None, "executor": {"type": "test-say", "name": "main"},
                "reviewer": {"type": "checks", "command": "true"}}},
        ],
        "scorers": ["includes"],
    })
    results = evaluate(suite, gw, out_dir=tmp_path / "eval", progress=False)
    assert results.per_sample("m", "workflow") == {"t0": 1.0, "t1": 1.0, "t2": 1.0}
    row = results.compare(("m", "agent")).row(0, named=True)
    assert row["solver"] == "workflow" and row["n"] == 3 and row["diff"] == 1.0


def test_checks_run_in_the_os_sandbox(tmp_path: Path):
    """A review command cannot write outside the workspace (real bubblewrap sandbox)."""
    import asyncio

    from forgekit.agents.checks import run_check
    from forgekit.core.sandbox import sandbox_status

    if not sandbox_status().available:
        pytest.skip("no bubblewrap on this machine")
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    code, out = asyncio.run(run_check(f"echo ok > inside.txt && echo x > {outside}/leak.txt",
                                      ws, 30))
    assert code != 0 and (ws / "inside.txt").read_text() == "ok\n"
    assert not (outside / "leak.txt").exists()
