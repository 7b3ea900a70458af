"""End to end on the embedded model (SmolLM2-135M via llama.cpp): a workflow plans, writes
a small function into a workspace and is reviewed by running the workspace's tests; the
run is recorded, replayed offline with zero model calls, and evaluated with `evaluate`
beside a single agent, with the paired comparison.

The 135M model rarely gets the function right (or the plan valid), so every assertion is
on the machinery — structure and invariants — never on what the model wrote.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from forgekit.agents import Agent, MaxSteps
from forgekit.agents.checks import Checks
from forgekit.agents.roles import Role
from forgekit.agents.workflow import Workflow
from forgekit.core import Sample

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TEST_FILE = "from add import add\nassert add(2, 3) == 5\nprint('ok')\n"
TASK = "Write a Python function add(a, b) that returns a + b into the file add.py."
SMALL = {"max_tokens": 64, "temperature": 0}


def workflow(planner: bool = True, fixes: int = 1) -> Workflow:
    planner_role = Role("planner", description="Plans in one short JSON reply.", model="local",
                        system_prompt="You are the {{ role.name }}. Plan briefly.",
                        termination={"type": "max_steps", "n": 1}, params=SMALL)
    coder = Role("coder", description="Writes add.py.", model="local", bundles=["files"],
                 system_prompt="You are the {{ role.name }}. Use write_file to write add.py.",
                 policy="trusted", termination={"type": "or", "conditions": [
                     {"type": "final_answer"}, {"type": "max_steps", "n": 2}]},
                 params=SMALL)
    return Workflow(planner=planner_role if planner else None, executor=coder,
                    reviewer=Checks("python3 test_add.py", timeout_s=30), approval="auto",
                    max_review_rounds=fixes, max_revisions=0, deliver="diff",
                    name="local-workflow")


def _fresh(ws: Path) -> Path:
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    return ws


def test_workflow_on_the_local_model_recorded_and_replayed(local_gateway, tmp_path: Path):
    from forgekit.models import Gateway
    from forgekit.trajectory import ReplaySource, Trajectory

    runs, ws = tmp_path / "runs", _fresh(tmp_path / "ws")
    sample = Sample(id="add", input=TASK, files={"test_add.py": TEST_FILE})
    wf = workflow(fixes=0)
    answer = wf.run(sample, local_gateway, workspace=ws, runs_dir=runs, model="local")
    traj = Trajectory.load(wf.last_run_id, runs)
    assert traj.status == "completed" and traj.end.stop_reason == answer.stop_reason
    keys = [c.start.tags["turn"] for c in traj.children]
    assert keys[0] == "plan#1" and all(c.status == "completed" for c in traj.children)
    assert traj.end.model_calls == sum(len(c.model_calls) for c in traj.walk()) >= 1
    if answer.stop_reason.startswith("planning failed"):
        assert keys == ["plan#1"]  # the model's plan did not parse: the run says so and stops
    else:
        assert keys[1].startswith("step:") and "review#1" in keys
        review = next(c for c in traj.children if c.start.tags["turn"] == "review#1")
        (check,) = review.tool_calls
        assert check.name == "check" and check.arguments == {"command": "python3 test_add.py"}
        assert set(answer.data) >= {"plan", "passed", "diff", "files", "review"}

    # replay offline: same sample, same (reset) workspace, answers from the recording only
    source = ReplaySource(traj)
    replay_gw = Gateway(local_gateway.config, source=source)
    wf2 = workflow(fixes=0)
    again = wf2.run(sample, replay_gw, workspace=_fresh(ws), runs_dir=runs, model="local")
    assert source.served == traj.end.model_calls and source.remaining == 0
    assert again.stop_reason == answer.stop_reason and again.text == answer.text
    # the same run, event for event (ids, times and the gateway's retry count aside: a
    # call retried while recording is answered at once in the replay)
    assert _shape(traj) == _shape(Trajectory.load(wf2.last_run_id, runs))


def _shape(traj) -> list:
    from forgekit.trajectory.diff import normalized, tree_events

    return [(depth, {k: v for k, v in normalized(e).items() if k != "retries"})
            for depth, e in tree_events(traj)]


def test_workflow_beside_a_single_agent_in_evaluate(local_gateway, tmp_path: Path):
    from forgekit.evals import evaluate
    from forgekit.evals.suite import Suite

    tasks = tmp_path / "tasks.jsonl"
    rows = [{"id": f"add-{i}", "input": TASK, "target": "def add",
             "files": {"test_add.py": TEST_FILE}} for i in range(2)]
    tasks.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    agent = Agent(model="local", bundles=["files"], policy="trusted",
                  termination=MaxSteps(2), params=SMALL, name="agent")
    suite = Suite.model_validate({
        "name": "workflow-vs-agent",
        "taskset": {"path": str(tasks)},
        "models": ["local"],
        "solvers": [
            {"name": "agent", "type": "agent", "options": _options(agent.config())},
            {"name": "workflow", "type": "workflow",
             "options": _options(workflow(planner=False).config())},
        ],
        "scorers": ["includes"],
        "concurrency": 1,
    })
    results = evaluate(suite, local_gateway, out_dir=tmp_path / "eval", progress=False)
    cells = results.cells()
    assert sorted(c[1] for c in cells) == ["agent", "workflow"]
    for cell in cells:
        assert len(results.per_sample(*cell)) == 2
    comparison = results.compare(("local", "agent"))
    assert comparison.height == 1 and comparison["n"][0] == 2
    assert comparison["solver"][0] == "workflow"


def _options(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in ("type", "version", "name")}
