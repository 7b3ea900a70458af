"""Agent memory tools on real LanceDB tables and the packaged embedding model, with a
scripted model: remember/recall as tools, model-rated importance, deep recall, events."""

from __future__ import annotations

import pytest

from forgekit.agents import Agent, FinalAnswer, MaxSteps
from forgekit.agents.memory import Memory, parse_rating, parse_subqueries
from forgekit.core import MemorySink, RunContext, ToolCall
from forgekit.core.sync import run_sync
from tests.scripted import reply, scripted_gateway


@pytest.fixture(scope="module")
def embedder():
    pytest.importorskip("lancedb")
    from forgekit.rag.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


def notes(sink, kind):
    return [e.data for e in sink.events if e.type == "note" and e.kind == kind]


def test_parsers():
    assert parse_rating("8") == 0.8 and parse_rating("Rating: 12/10") == 1.0
    assert parse_rating("no idea") is None
    assert parse_subqueries("1. units\n- deploy script\n\nunits\n", 5) == ["units", "deploy script"]


def test_agent_remembers_then_recalls_with_tools(tmp_path, embedder):
    memory = Memory("notes", agent="helper", project_dir=str(tmp_path))
    gw, src = scripted_gateway(
        [
            reply(
                "",
                ToolCall(
                    id="r1",
                    name="remember",
                    arguments={"text": "The user prefers metric units.", "importance": 0.9},
                ),
            ),
            reply("", ToolCall(id="r2", name="recall", arguments={"query": "which units?"})),
            reply("Metric."),
        ]
    )
    agent = Agent(model="m", tools=[memory], termination=FinalAnswer() | MaxSteps(4))
    answer = agent.run("Remember my units, then recall them.", gw, workspace=tmp_path)
    assert answer.text == "Metric."
    (write,) = notes(agent.last_sink, "memory_write")
    assert write["level"] == "agent" and write["importance"] == 0.9
    assert write["importance_source"] == "given"
    (recall,) = notes(agent.last_sink, "memory_recall")
    (hit,) = recall["hits"]
    assert hit["id"] == write["id"] and hit["text"] == "The user prefers metric units."
    assert hit["score"] == pytest.approx(
        0.5 * hit["cosine"] + 0.3 * hit["recency"] + 0.2 * 0.9, abs=1e-5
    )
    tool_msg = src.requests[2].messages[-1]
    assert tool_msg.content.startswith("1. The user prefers metric units. (score ")
    # a later run of the same agent sees the agent-level memory
    gw2, _ = scripted_gateway(
        [reply("", ToolCall(id="r3", name="recall", arguments={"query": "units"})), reply("ok")]
    )
    agent2 = Agent.from_config(agent.config())  # the memory is in the agent's config
    assert agent2.config() == agent.config()
    agent2.run("Recall.", gw2, workspace=tmp_path)
    assert len(notes(agent2.last_sink, "memory_recall")[0]["hits"]) == 1


def test_model_rated_importance_and_deep_recall(tmp_path, embedder):
    memory = Memory(
        "deep",
        agent="a",
        project_dir=str(tmp_path),
        rate_importance=True,
        deep=True,
        level="session",
    )
    gw, src = scripted_gateway(
        [reply("8"), reply("Nonsense"), reply("units of distance\ndeploy script location")]
    )
    sink = MemorySink()
    ctx = RunContext(gateway=gw, sink=sink, model="m")

    async def go():
        await memory.remember(ctx, "Distances are reported in kilometres.")
        unrated = await memory.remember(ctx, "The deploy script is tools/deploy.sh.")
        hits = await memory.recall(ctx, "Which units and where is the deploy script?", k=2)
        return unrated, hits

    unrated, hits = run_sync(go())
    writes = notes(sink, "memory_write")
    assert [w["importance_source"] for w in writes] == ["model", "default"]
    assert writes[0]["importance"] == 0.8 and unrated.importance == 0.5
    assert "Rate how important" in src.requests[0].messages[0].content
    (recall,) = notes(sink, "memory_recall")
    assert recall["deep"] and recall["subqueries"] == [
        "units of distance",
        "deploy script location",
    ]
    assert {h["text"] for h in recall["hits"]} == {
        "Distances are reported in kilometres.",
        "The deploy script is tools/deploy.sh.",
    }
    calls = [e for e in sink.events if e.type == "model_call"]
    assert len(calls) == 3  # two ratings and one split, all recorded
    assert len(hits) == 2 and all(h.record.session == sink.run_id for h in hits)


def test_memory_is_a_component(tmp_path, embedder):
    memory = Memory("notes", agent="x", k=3, project_dir=str(tmp_path))
    cfg = memory.config()
    assert cfg["type"] == "memory" and cfg["agent"] == "x" and cfg["k"] == 3
    from forgekit.core.component import build_component

    again = build_component(cfg)
    assert isinstance(again, Memory) and again.k == 3 and again.store.name == "notes"
