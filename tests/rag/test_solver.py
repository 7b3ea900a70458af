"""The RAG pipeline as a solver: a real index, a scripted model, the retrieval recorded."""

from __future__ import annotations

import asyncio

import pytest

from forgekit.core.component import build_component, config_hash
from forgekit.core.context import MemorySink, RunContext
from forgekit.core.messages import ModelResponse, Usage
from forgekit.core.samples import Sample
from forgekit.rag import Index
from forgekit.rag.solver import RagSolver
from tests.scripted import scripted_gateway


def test_rag_solver_puts_the_top_passages_in_the_prompt(docs_dir, tmp_path, embedder):
    idx = Index(docs_dir, name="rs", project_dir=tmp_path, embedder=embedder,
                keywords={"enabled": False})
    gw, src = scripted_gateway([ModelResponse(text="replay(run_id)", usage=Usage(input_tokens=5,
                                                                                  output_tokens=2))])
    rag = RagSolver(idx, k=2, model="m")
    sink = MemorySink()
    ctx = RunContext(gateway=gw, sink=sink)
    answer = asyncio.run(rag.solve(Sample(id="q", input="how do I replay a recorded run?"), ctx))
    assert answer.text == "replay(run_id)"
    prompt = src.requests[0].messages[-1].content
    assert "def replay" in prompt and "Question: how do I replay a recorded run?" in prompt
    assert len(answer.metadata["retrieved"]) == 2
    notes = [e for e in sink.events if e.type == "note" and e.kind == "retrieval"]
    assert notes and notes[0].data["ids"] == answer.metadata["retrieved"]
    # the config names the index; an equal solver opens it by name from the project
    again = build_component({**rag.config(), "project_dir": str(tmp_path)})
    assert again.index_name == "rs" and again.k == 2
    assert config_hash(RagSolver("rs", k=3)) != config_hash(RagSolver("rs", k=2))


def test_rag_solver_rejects_a_template_without_its_fields():
    with pytest.raises(ValueError, match="context"):
        RagSolver("x", template="{input} only")
