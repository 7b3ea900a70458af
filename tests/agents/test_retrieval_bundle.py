"""The retrieval bundle over a real forgekit.rag Index (LanceDB + MiniLM embeddings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.agents import Agent, FunctionCallResult, load_bundle
from forgekit.core import ModelResponse, ToolCall
from forgekit.core.config import AliasConfig, Price, load_config
from forgekit.models import Gateway, ScriptedSource

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_agent_searches_a_real_index(tmp_path: Path):
    from forgekit.rag import Index

    idx = Index(
        [
            {"id": "llama", "text": "Llamas are domesticated camelids from the Andes."},
            {"id": "replay", "text": "A recorded run can be replayed with zero model calls."},
            {"id": "tea", "text": "Green tea is brewed at about eighty degrees Celsius."},
        ],
        name="kb",
        project_dir=tmp_path,
    )
    cfg = load_config(env={})
    cfg.models.aliases["m"] = AliasConfig(
        model="openai/scripted", price=Price(input_per_1k=0, output_per_1k=0)
    )
    src = ScriptedSource(
        [
            ModelResponse(
                tool_calls=[
                    ToolCall(id="s", name="search_docs", arguments={"query": "replay", "k": 1})
                ]
            )
        ]
    )
    agent = Agent(
        model="m",
        bundles=[load_bundle("retrieval", index=idx)],
        termination=FunctionCallResult("search_docs"),
    )
    answer = agent.run("How do I replay a run?", Gateway(cfg, source=src), workspace=tmp_path)
    (obs,) = [m.content for m in answer.messages if m.role == "tool"]
    assert "replayed with zero model calls" in obs
    assert "Llamas" not in obs
