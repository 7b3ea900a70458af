"""Every registered component round-trips: ``build_component(c.config()) == c``, through
YAML and JSON, for every type forgekit ships (a new type without an example fails here)."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile

import pytest
import yaml
from pydantic import BaseModel

import forgekit as fk
from forgekit.core.component import (
    build_component,
    config_hash,
    config_of,
    registered_components,
)
from forgekit.core.errors import ConfigError


class Reply(BaseModel):
    """An output schema an agent or a guardrail can name by reference."""

    answer: str


def is_short(answer, sample):  # a validator / check referenced as "module:function"
    return len(answer.text) < 50


def stop_when_done(state):  # a termination predicate referenced by import
    return "done" in state.last_text


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def approved(answer) -> bool:  # a graph edge condition referenced by import
    return answer.text.startswith("ok")


def _orchestration_examples(prompt: object) -> dict[str, list[object]]:
    from forgekit.agents.checks import Checks
    from forgekit.agents.graph import Edge, Field, GraphBuilder, Node, Not, OutputMatches, When
    from forgekit.agents.handoff import HandoffTeam
    from forgekit.agents.planning import PlanningLoop
    from forgekit.agents.plans import Plan
    from forgekit.agents.roles import Role, load_role
    from forgekit.agents.workflow import Workflow

    plan = Plan.model_validate({"steps": [{"id": "a", "description": "do a"}],
                                "acceptance_criteria": ["tests pass"]})
    graph = (GraphBuilder("g", max_iterations=3).node("w", prompt).node("r", load_role("reviewer"))
             .start("w").edge("w", "r").edge("r", "w", when=~Field("passed", equals=True))
             .build())
    return {
        "role": [load_role("coder"), Role("poet", description="verse", model="local",
                                           termination={"type": "max_steps", "n": 2})],
        "graph": [graph],
        "graph_node": [Node("n", prompt, join="any", input="task")],
        "graph_edge": [Edge("a", "b"), Edge("a", "c", when=OutputMatches("^ok"))],
        "field": [Field("score", at_least=0.5), Field("verdict", one_of=["a", "b"])],
        "output_matches": [OutputMatches("done", ignore_case=True)],
        "when": [When(approved)],
        "not": [Not(When(f"{__name__}:approved"))],
        "workflow": [Workflow(), Workflow(planner=None, plan=plan, executor=prompt,
                                          reviewer=Checks("pytest -q"), approval="ask",
                                          deliver="diff", roles={"tester": "tester"})],
        "checks": [Checks("python -m pytest -q", timeout_s=30)],
        "plan": [plan],
        "handoff_team": [HandoffTeam({"a": "planner", "b": prompt}, start="a", max_handoffs=2)],
        "planning_loop": [PlanningLoop({"coder": "coder", "p": prompt}, max_stalls=1)],
    }


SCRATCH = tempfile.mkdtemp(prefix="forgekit-components-")
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)


def _examples() -> dict[str, list[object]]:
    from forgekit.agents import (
        Agent,
        DropStaleFileViews,
        FinalAnswer,
        FunctionCallResult,
        HeadAndTail,
        LastNObservations,
        MaxCost,
        MaxSteps,
        MaxTokens,
        PolicyConfig,
        Predicate,
        RemoveRegex,
        StallDetected,
        TextMention,
        Timeout,
        TokenBudget,
        tool,
    )
    from forgekit.agents.mcp.hub import MCPHub
    from forgekit.agents.mcp.servers import MCPConfig, MCPServerConfig
    from forgekit.agents.memory import Memory
    from forgekit.agents.termination import AllOf, AnyOf
    from forgekit.evals import build_scorer
    from forgekit.quality import (
        AskColleagues,
        BestOfN,
        Debate,
        Direct,
        Guardrail,
        Pairwise,
        ReviewerRetry,
    )
    from forgekit.quality.experience_pool import ExperiencePool
    from forgekit.quality.guardrail import LLMValidator, SchemaValidator
    from forgekit.rag.solver import RagSolver

    prompt = fk.PromptSolver("{input}\nAnswer with a number.", name="terse", max_tokens=8)
    return {
        "prompt": [prompt, Direct(), fk.PromptSolver(system="be brief",
                                                     few_shot=[{"user": "1+1", "assistant": "2"}],
                                                     model="local", params={"seed": 3})],
        "agent": [
            Agent(model="local", tools=[tool(add)], bundles=["files"], policy="trusted",
                  termination=MaxSteps(4) | TextMention("DONE"),
                  history=[LastNObservations(n=2)], output_schema=Reply, name="a",
                  params={"temperature": 0}),
            Agent(policy=PolicyConfig(preset="headless-safe", ask_default="allow"),
                  system_prompt={"template": "You are {{ name }}."}),
        ],
        "best_of_n": [BestOfN(prompt, n=3), BestOfN(prompt, n=2, normalize=f"{__name__}:is_short")],
        "ask_colleagues": [AskColleagues(prompt, models=["a", "b"], temperature=0.7)],
        "pairwise": [Pairwise(prompt, n=2, judge_model="local")],
        "reviewer": [ReviewerRetry(prompt, k=2, mode="check", check=is_short)],
        "guardrail": [Guardrail(prompt, validator=Reply), Guardrail(prompt, rules="be short"),
                      Guardrail(BestOfN(prompt, n=2), validator=is_short, max_attempts=2)],
        "debate": [Debate(prompt, rounds=1)],
        "schema_validator": [SchemaValidator(Reply)],
        "llm_validator": [LLMValidator("no swearing", model="local")],
        "max_steps": [MaxSteps(3)],
        "max_tokens": [MaxTokens(100)],
        "max_cost": [MaxCost(0.5)],
        "timeout": [Timeout(9.5)],
        "text_mention": [TextMention("DONE")],
        "function_call_result": [FunctionCallResult("submit", text="ok")],
        "stall": [StallDetected(repeats=2, no_progress=3)],
        "final_answer": [FinalAnswer()],
        "predicate": [Predicate(stop_when_done)],
        "or": [AnyOf([MaxSteps(2), FinalAnswer()])],
        "and": [AllOf([MaxSteps(2), Timeout(3)]), MaxSteps(1) & (TextMention("x") | Timeout(1))],
        "last_n_observations": [LastNObservations(n=1)],
        "drop_stale_file_views": [DropStaleFileViews()],
        "remove_regex": [RemoveRegex(patterns=["secret"])],
        "token_budget": [TokenBudget(max_tokens=900)],
        "head_and_tail": [HeadAndTail()],
        **_orchestration_examples(prompt),
        "policy": [PolicyConfig(preset="plan-readonly")],
        "task": [fk.Task([{"id": "a", "input": "6*7?", "target": "42"}], scorers=["exact"],
                         epochs=2, name="tiny"),
                 fk.Task("datasets/arithmetic/arithmetic.jsonl", limit=3, limits={"steps": 4})],
        "rag": [RagSolver("docs", k=2, mode="vector", params={"max_tokens": 64})],
        "experience_pool": [ExperiencePool(prompt, mode="hint", threshold=0.8,
                                           project_dir=SCRATCH)],
        "memory": [Memory("notes", agent="a", k=3, deep=True, project_dir=SCRATCH)],
        "mcp_server": [MCPServerConfig(command="python", args=["-m", "srv"], allow=["get_*"])],
        "mcp_config": [MCPConfig(servers={"s": MCPServerConfig(url="http://127.0.0.1:9/mcp")})],
        "mcp_hub": [MCPHub({"servers": {"s": {"command": "python"}}}, log_dir=SCRATCH)],
        **{name: [build_scorer({"type": name, **params})] for name, params in {
            "exact": {}, "includes": {"name": "has-it"}, "regex": {"pattern": "[0-9]+"},
            "numeric": {"tolerance": 0.01}, "choice": {}, "f1": {},
            "judge": {"model": "local"}, "code": {},
        }.items()},
    }


EXAMPLES = _examples()


def test_every_registered_type_has_an_example():
    # forgekit's own types; those the tests register (test-*, scorers in test modules) aside
    missing = sorted(
        name for name, cls in registered_components().items()
        if name not in EXAMPLES and cls.__module__.startswith("forgekit.")
    )
    assert not missing, f"add round-trip examples for: {missing}"


@pytest.mark.parametrize(
    "obj", [o for objs in EXAMPLES.values() for o in objs],
    ids=[f"{k}-{i}" for k, objs in EXAMPLES.items() for i in range(len(objs))],
)
def test_round_trip_is_exact(obj):
    cfg = config_of(obj)
    assert cfg["version"] >= 1 and isinstance(cfg["type"], str)
    for text in (yaml.safe_dump(cfg, sort_keys=False), json.dumps(cfg)):
        back = build_component(yaml.safe_load(text))
        assert type(back) is type(obj)
        assert config_of(back) == cfg
        assert config_hash(back) == config_hash(obj)


def test_prompt_solver_and_direct_are_one_solver_with_one_config():
    from forgekit.quality import Direct

    a = fk.PromptSolver("{input}", params={"max_tokens": 8})
    b = Direct("{input}", max_tokens=8)
    assert a.config() == b.config() and config_hash(a) == config_hash(b)
    # the quality layer's old config shape still loads
    old = {"type": "direct", "template": "{input}", "model": None, "name": "direct",
           "max_tokens": 8}
    assert build_component(old).params == {"max_tokens": 8}


def test_older_strategy_config_shape_still_loads():
    from forgekit.quality import from_config

    s = from_config({"strategy": "best_of_n", "n": 3,
                     "inner": {"type": "direct", "template": "{input}"}})
    assert s.cfg.n == 3 and s.inner.template == "{input}"


def test_agent_config_leaves_out_how_it_is_run(tmp_path):
    from forgekit.agents import Agent

    a = Agent(model="local", workspace=tmp_path, feedback=object())
    assert "workspace" not in a.config() and "feedback" not in a.config()
    assert config_hash(a) == config_hash(Agent(model="local"))


def test_agent_tool_from_a_notebook_cell_hashes_but_does_not_save():
    from forgekit.agents import Agent

    def local_tool(x: int) -> int:
        """Double."""
        return 2 * x

    a = Agent(model="m", tools=[local_tool])
    assert config_hash(a) != config_hash(Agent(model="m"))
    with pytest.raises(ConfigError, match="cannot be referenced"):
        a.config()


def test_a_changed_argument_changes_the_hash():
    from forgekit.quality import BestOfN

    p = fk.PromptSolver("{input}")
    assert config_hash(BestOfN(p, n=3)) != config_hash(BestOfN(p, n=1))
    assert config_hash(BestOfN(p, n=3)) != config_hash(BestOfN(fk.PromptSolver("Q: {input}"), n=3))


def test_unknown_solver_type_in_a_config_lists_the_known_ones():
    with pytest.raises(ConfigError) as e:
        build_component({"type": "best_of_m", "n": 2}, kind="solver", where="solvers[1]")
    assert "best_of_n" in str(e.value) and "agent" in str(e.value)
    assert e.value.key == "solvers[1].type"
