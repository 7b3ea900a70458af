from __future__ import annotations

import inspect
import typing

from forgekit.rag import Index, retrieval_tool


def test_retrieval_tool_is_a_typed_documented_function(docs_dir, tmp_path, embedder):
    idx = Index(
        docs_dir, name="t", project_dir=tmp_path, embedder=embedder, keywords={"enabled": False}
    )
    tool = retrieval_tool(idx)
    assert tool.__name__ == "search_docs"
    sig = inspect.signature(tool)
    assert list(sig.parameters) == ["query", "k"]
    assert sig.parameters["k"].default == 5
    hints = typing.get_type_hints(tool)
    assert hints == {"query": str, "k": int, "return": str}
    assert "Args:" in tool.__doc__ and "query:" in tool.__doc__
    out = tool("replay a recorded run", k=2)
    assert out.startswith("[1] tool.py:") and "def replay" in out
    assert out.count("\n[") == 1  # two passages
    assert tool("zzqx", k=50).count("[") <= 20 * 2
