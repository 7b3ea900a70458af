"""Graph flows under scripted models: validation, conditional edges, fan-out, join/race,
cycles with exits, recording, config round-trip and the diagram."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from forgekit.agents.graph import Edge, Field, Graph, GraphBuilder, Node, OutputMatches, When
from forgekit.core import EventBus, RunContext, Sample
from forgekit.core.component import build_component, config_hash
from forgekit.core.errors import ConfigError
from forgekit.core.samples import Answer
from forgekit.core.sync import run_sync
from forgekit.trajectory import Trajectory
from tests.scripted import scripted_gateway

from .orchestration_helpers import Say, by_node


def approved(answer: Answer) -> bool:
    return answer.text.endswith("ok")


# -- validation ---------------------------------------------------------------------------
def test_invalid_graphs_are_rejected_with_the_node_or_edge_named():
    a, b, c = Say("a"), Say("b"), Say("c")
    with pytest.raises(ConfigError, match="no start node"):
        Graph([Node("a", a), Node("b", b)], [Edge("a", "b"), Edge("b", "a", when=Field("x"))])
    with pytest.raises(ConfigError, match="node 'a' mixes conditional edges \\(to b\\) and "
                                          "unconditional edges \\(to c\\)"):
        Graph([Node("a", a), Node("b", b), Node("c", c)],
              [Edge("a", "b", when=Field("x")), Edge("a", "c")])
    with pytest.raises(ConfigError, match="cycle b -> c -> b has no conditional edge") as e:
        Graph([Node("a", a), Node("b", b), Node("c", c)],
              [Edge("a", "b"), Edge("b", "c"), Edge("c", "b")])
    assert e.value.key == "edges[1]"
    with pytest.raises(ConfigError, match="edge a -> z names an unknown node 'z'"):
        Graph([Node("a", a)], [Edge("a", "z")])
    with pytest.raises(ConfigError, match="node\\(s\\) c cannot be reached"):
        Graph([Node("a", a), Node("b", b), Node("c", c)],
              [Edge("a", "b"), Edge("c", "c", when=Field("x"))], start=["a"])
    with pytest.raises(ConfigError, match="not a solver"):
        Node("x", "not a solver")


# -- control paths ------------------------------------------------------------------------
def test_conditional_edges_follow_a_structured_field_of_the_last_output():
    script = by_node({
        "router": json.dumps({"route": "math"}),
        "math": "4", "prose": "four",
    })
    gw, src = scripted_gateway(script)
    g = (GraphBuilder("router")
         .node("router", Say("router")).node("math", Say("math")).node("prose", Say("prose"))
         .edge("router", "math", when=Field("route", equals="math"))
         .edge("router", "prose", when=Field("route", equals="prose"))
         .build())
    answer = g.run("2+2 (the task mentions route prose, which must not matter)", gw)
    assert answer.text == "4" and answer.metadata["order"] == ["router#1", "math#1"]
    assert g.last_run.status == {"router": "done", "math": "done", "prose": "pending"}
    assert script.counts == {"router": 1, "math": 1}
    # the math node got the task and the router's output
    assert "--- output of router ---" in src.requests[1].messages[-1].content


def test_fan_out_runs_branches_together_and_join_all_waits_for_both():
    gate = {"b": asyncio.Event(), "c": asyncio.Event()}

    class Meet(Say):
        async def solve(self, sample, ctx):
            gate[self.name].set()
            other = "c" if self.name == "b" else "b"
            await asyncio.wait_for(gate[other].wait(), 5)  # deadlocks unless concurrent
            return await super().solve(sample, ctx)

    script = by_node({"a": "A", "b": "B", "c": "C", "d": lambda r: "D"})
    gw, src = scripted_gateway(script)
    g = (GraphBuilder("fan").node("a", Say("a")).node("b", Meet("b")).node("c", Meet("c"))
         .node("d", Say("d")).fan_out("a", ["b", "c"]).edge("b", "d").edge("c", "d").build())
    answer = g.run("go", gw)
    assert answer.text == "D" and script.counts == {"a": 1, "b": 1, "c": 1, "d": 1}
    d_prompt = src.requests[-1].messages[-1].content
    assert "--- output of b ---\nB" in d_prompt and "--- output of c ---\nC" in d_prompt


def test_join_any_races_and_cancels_the_slower_input(tmp_path: Path):
    script = by_node({"a": "A", "fast": "F", "slow": "S", "end": "E"})
    gw, _ = scripted_gateway(script)
    g = (GraphBuilder("race")
         .node("a", Say("a")).node("fast", Say("fast")).node("slow", Say("slow", delay_s=30))
         .node("end", Say("end"), join="any")
         .fan_out("a", ["fast", "slow"]).edge("fast", "end").edge("slow", "end").build())
    answer = g.run("go", gw, runs_dir=tmp_path)
    assert answer.text == "E" and "slow" not in script.counts
    assert g.last_run.status["slow"] == "cancelled" and g.last_run.visits["end"] == 1
    traj = Trajectory.load(g.last_run_id, tmp_path)
    slow = next(c for c in traj.children if c.start.tags.get("node") == "slow")
    assert slow.status == "interrupted"


def test_cycle_exits_on_a_success_predicate():
    script = by_node({"coder": ["v1", "v2"], "reviewer": ["needs work", "ok"]})
    gw, _ = scripted_gateway(script)
    g = (GraphBuilder("loop", max_iterations=5)
         .node("coder", Say("coder")).node("reviewer", Say("reviewer")).start("coder")
         .edge("coder", "reviewer")
         .edge("reviewer", "coder", when=~When(approved))
         .build())
    answer = g.run("write it", gw)
    assert answer.text == "ok" and answer.stop_reason.startswith("completed")
    assert answer.metadata["order"] == ["coder#1", "reviewer#1", "coder#2", "reviewer#2"]


def test_cycle_stops_at_max_iterations_with_the_reason_recorded():
    script = by_node({"coder": "v", "reviewer": "needs work"})
    gw, _ = scripted_gateway(script)
    g = (GraphBuilder("loop", max_iterations=2)
         .node("coder", Say("coder")).node("reviewer", Say("reviewer")).start("coder")
         .edge("coder", "reviewer")
         .edge("reviewer", "coder", when=OutputMatches("needs work"))
         .build())
    answer = g.run("write it", gw)
    assert answer.stop_reason.startswith("max_iterations: node 'coder' already ran 2")
    assert script.counts == {"coder": 2, "reviewer": 2}
    notes = [e for e in g.last_sink.events if e.type == "note" and e.kind == "graph_node"]
    assert notes[-1].data["status"] == "stopped"


def test_join_all_runs_on_partial_inputs_when_a_branch_was_not_taken():
    script = by_node({"a": json.dumps({"b": True, "c": False}), "b": "B", "c": "C", "d": "D"})
    gw, _ = scripted_gateway(script)
    g = (GraphBuilder("partial").node("a", Say("a")).node("b", Say("b")).node("c", Say("c"))
         .node("d", Say("d"))
         .edge("a", "b", when=Field("b")).edge("a", "c", when=Field("c"))
         .edge("b", "d").edge("c", "d").build())
    assert g.run("go", gw).text == "D"
    notes = [e.data for e in g.last_sink.events if e.type == "note" and e.kind == "graph_node"]
    assert {"node": "d", "status": "join-partial", "waited_for": ["c"]} in notes


# -- recording, config, views -------------------------------------------------------------
def test_graph_is_one_trajectory_with_a_child_run_per_turn(tmp_path: Path):
    script = by_node({"coder": ["v1", "v2"], "reviewer": ['{"passed": false}', '{"passed": true}']})
    gw, _ = scripted_gateway(script)
    g = (GraphBuilder("loop").node("coder", Say("coder")).node("reviewer", Say("reviewer"))
         .start("coder")
         .edge("coder", "reviewer").edge("reviewer", "coder", when=Field("passed", equals=False))
         .build())
    g.run("task", gw, runs_dir=tmp_path)
    traj = Trajectory.load(g.last_run_id, tmp_path)
    assert traj.status == "completed"
    assert [(c.start.tags["node"], c.start.tags["visit"]) for c in traj.children] == [
        ("coder", "1"), ("reviewer", "1"), ("coder", "2"), ("reviewer", "2")]
    assert all(len(c.model_calls) == 1 and c.status == "completed" for c in traj.children)
    assert traj.end.model_calls == 4


def test_graph_round_trips_through_yaml_and_hashes_its_config():
    g = (GraphBuilder("loop", max_iterations=3)
         .node("coder", Say("coder")).node("reviewer", Say("reviewer"), join="any")
         .start("coder")
         .edge("coder", "reviewer")
         .edge("reviewer", "coder", when=~When(approved))
         .build())
    cfg = g.config()
    back = build_component(yaml.safe_load(yaml.safe_dump(cfg)), kind="solver")
    assert isinstance(back, Graph) and back == g and config_hash(back) == config_hash(g)
    assert back.edges[1].when.condition.fn is approved
    other = Graph([Node("coder", Say("coder"))], max_iterations=3, name="loop")
    assert config_hash(other) != config_hash(g)


def test_diagram_shows_status_per_node():
    script = by_node({"a": "A", "b": "B"})
    gw, _ = scripted_gateway(script)
    g = GraphBuilder("two").node("a", Say("a")).node("b", Say("b")).edge("a", "b").build()
    before = g._repr_html_()
    assert before.startswith("<svg") and 'data-node="a" data-status="pending"' in before
    seen: list[dict] = []
    bus = EventBus()
    bus.subscribe("on_status", lambda run: seen.append(dict(run.status)))
    run_sync(g.solve(Sample(id="s", input="go"), RunContext(gateway=gw, bus=bus)))
    assert {"a": "running", "b": "pending"} in seen and seen[-1] == {"a": "done", "b": "done"}
    after = g._repr_html_()
    assert 'data-node="b" data-status="done"' in after
    assert g.to_mermaid().splitlines()[:3] == ["flowchart LR", '  a["a"]:::pending',
                                              '  b["b"]:::pending']
