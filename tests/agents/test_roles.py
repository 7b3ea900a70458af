"""Roles from YAML: shipped and project roles, the agent a role builds, the CLI listing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from forgekit.agents.roles import Role, available_roles, load_role, shipped_roles
from forgekit.core.component import build_component, config_hash
from forgekit.core.errors import ConfigError
from forgekit.core.messages import ModelResponse, ToolCall, Usage
from forgekit.core.samples import Sample
from tests.scripted import scripted_gateway


def test_shipped_roles_load_and_build_agents():
    assert shipped_roles() == ["coder", "planner", "researcher", "reviewer", "tester"]
    for name in shipped_roles():
        role = load_role(name)
        agent = role.agent(model="m")
        assert agent.name == name and agent.model == "m"
        assert agent.bundles, name  # every shipped role has tools
        # the role's template renders with the role's name and the agent's variables
        text = agent._system(agent.tools, False, Path("/ws"))
        assert f"You are the {name}." in text
    assert load_role("planner").spec.policy == "plan-readonly"
    assert {t.name for t in load_role("coder").agent().tools} >= {"write_file", "run_python"}


def test_role_round_trips_through_yaml_with_a_stable_hash():
    role = load_role("reviewer")
    cfg = role.config()
    assert cfg["type"] == "role" and cfg["name"] == "reviewer"
    back = build_component(yaml.safe_load(yaml.safe_dump(cfg)))
    assert back == role and config_hash(back) == config_hash(role)
    # the agent a role builds is a component too, and rebuilds with the same prompt
    agent = role.agent(model="m")
    again = build_component(yaml.safe_load(yaml.safe_dump(agent.config())))
    assert again._system([], False, None) == agent._system([], False, None)
    assert again._system([], False, None).startswith("You are the reviewer.")
    assert config_hash(Role("x", description="a")) != config_hash(Role("x", description="b"))


def test_project_roles_add_and_override(tmp_path: Path):
    (tmp_path / "roles").mkdir()
    (tmp_path / "roles" / "translator.yaml").write_text(
        "name: translator\ndescription: Translates.\nmodel: m\n"
        "system_prompt: 'You are {{ role.name }}: {{ role.description }}'\n"
        "termination: {type: max_steps, n: 2}\nhistory: [{type: last_n_observations, n: 1}]\n"
    )
    (tmp_path / "roles" / "coder.yaml").write_text("name: coder\ndescription: Mine.\n")
    roles = available_roles(tmp_path)
    assert set(roles) == {"coder", "planner", "researcher", "reviewer", "tester", "translator"}
    assert roles["coder"].description == "Mine."
    agent = roles["translator"].agent()
    assert agent.model == "m" and agent.termination.config()["n"] == 2
    assert agent._system([], False, None) == "You are translator: Translates."


def test_bad_role_file_names_file_line_and_field(tmp_path: Path):
    bad = tmp_path / "roles" / "oops.yaml"
    bad.parent.mkdir()
    bad.write_text("name: oops\ndescription: x\nbundels: [files]\n")
    with pytest.raises(ConfigError) as e:
        load_role(bad)
    assert "oops.yaml:3" in str(e.value) and "bundels" in str(e.value)
    bad.write_text("name: oops\ntermination: {type: max_stepz, n: 2}\n")
    with pytest.raises(ConfigError, match="max_stepz"):
        load_role(bad)
    with pytest.raises(ConfigError, match="no role 'nobody'.*coder"):
        load_role("nobody", project=tmp_path)


def test_role_is_a_solver_running_its_agent(tmp_path: Path):
    gw, src = scripted_gateway([
        ModelResponse(text="", tool_calls=[ToolCall(id="1", name="list_files", arguments={})],
                      usage=Usage(input_tokens=1, output_tokens=1)),
        "Found nothing to review.",
    ])
    answer = load_role("reviewer").agent(model="m").run("review", gw, workspace=tmp_path)
    assert answer.metadata == {"steps": 2, "tool_calls": 1}
    system = src.requests[0].messages[0].content
    assert system.startswith("You are the reviewer.")



def test_a_role_without_a_model_routes_by_its_task_class():
    role = Role("mathematician", description="Does sums.", task_class="math")
    assert role.routed(Sample(id="s", input="1+1")).task_class == "math"
    assert Role("m", model="x", task_class="math").routed(Sample(id="s", input="1")).task_class \
        is None
