"""The retrieval bundle over a real forgekit.rag Index (LanceDB + MiniLM embeddings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.agents import Agent, FunctionCallResult, load_bundle
from forgekit.core import ModelResponse, ToolCall
from tests.scripted import scripted_gateway

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
    gw, _ = scripted_gateway(
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
    answer = agent.run("How do I replay a run?", gw, workspace=tmp_path)
    (obs,) = [m.content for m in answer.messages if m.role == "tool"]
    assert "replayed with zero model calls" in obs
    assert "Llamas" not in obs
