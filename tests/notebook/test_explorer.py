"""IndexExplorer over a real forgekit.rag Index (LanceDB, packaged embedding model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.notebook import IndexExplorer

DOCS = [
    {"id": "install", "text": "Install forgekit with pip. It needs Python 3.11."},
    {
        "id": "search",
        "text": "Hybrid search fuses BM25 keyword scores and vectors with reciprocal rank fusion.",
    },
    {"id": "replay", "text": "Replay a recorded run without calling any model."},
]


@pytest.mark.slow
def test_real_index_hits_with_vector_keyword_and_fused_scores(tmp_path: Path) -> None:
    from forgekit.rag import Index

    idx = Index(DOCS, name="nb", project_dir=tmp_path, keywords={"enabled": False})
    ex = IndexExplorer(idx, k=2, mode="hybrid")
    assert ex.widget is not None  # the live widget gets the results too
    ex._on_msg(
        ex.widget,
        {"action": "search", "query": "reciprocal rank fusion BM25", "k": 2, "mode": "hybrid"},
        [],
    )
    ex._worker.join(60)  # the search ran off the kernel's thread
    hits = ex.widget.data["hits"]
    assert ex.error is None and len(hits) == 2
    top = hits[0]
    assert "reciprocal rank fusion" in top["text"] and top["source"]
    assert top["vector"] is not None and top["keyword"] is not None
    assert top["fused"] is not None
    vec = ex.search("replay a run", mode="vector", k=1)
    assert len(vec) == 1 and "Replay" in vec[0]["text"] and vec[0]["keyword"] is None
    assert "Replay" in ex.html()


class _Broken:
    def search(self, query, k=5, mode="hybrid"):
        raise RuntimeError("index is closed")


def test_search_errors_show_in_the_widget() -> None:
    ex = IndexExplorer(_Broken())
    assert ex.search("x") == []
    assert "index is closed" in (ex.error or "") and "index is closed" in ex.html()
    with pytest.raises(ValueError):
        IndexExplorer(_Broken(), mode="semantic")
