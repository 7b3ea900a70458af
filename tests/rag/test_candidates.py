"""Search legs read ids only; full rows are read for the final hits (same results)."""

from __future__ import annotations

import pytest

from forgekit.rag import Index
from forgekit.rag import search as search_mod
from forgekit.rag.search import fetch_rows, keyword_leg, vector_leg

QUERIES = [
    "reciprocal rank fusion of BM25 and vectors",
    "how do I install it without internet",
    "replay a recorded run",
    "budget limit",
    "note 7 limits",
]
CONFIGS = [
    {},
    {"mode": "vector"},
    {"mode": "keyword"},
    {"keyword_weight": 1.0, "k": 8},
    {"group_by_doc": True, "k": 3},
    {"threshold": 0.02},
    {"candidates": 3, "k": 2},
]
FILTERS = [
    {},
    {"filters": {"kind": "markdown"}},
    {"filters": {"topic": "install"}},  # a metadata key: matched after the search
    {"where": "doc_id != 'd3'"},
]


@pytest.fixture
def idx(tmp_path, embedder):
    docs = [
        {
            "id": f"d{i}",
            "title": f"Note {i}",
            "kind": "markdown" if i % 2 else "document",
            "text": f"# Note {i}\n\nNote {i} is about "
            f"{'installing offline' if i % 2 else 'hybrid search ranking'} and budget {i}."
            f"\n\n## Detail\n\nMore words on replay, fusion and limits {i}.\n",
            "metadata": {"topic": "install" if i % 3 == 0 else "search"},
        }
        for i in range(16)
    ]
    return Index(
        docs,
        name="cand",
        project_dir=tmp_path / "p",
        embedder=embedder,
        keywords={"enabled": False},
    )


def _dump(results):
    return [h.model_dump() for h in results]


def test_ids_only_legs_give_the_same_hits_as_reading_full_rows(idx, monkeypatch):
    fast = {}
    for q in QUERIES:
        vec = idx.embed_queries([q])[0]
        for cfg in CONFIGS:
            for flt in FILTERS:
                fast[q, repr(cfg), repr(flt)] = _dump(idx.search(q, vector=vec, **cfg, **flt))
    # the session-1 way: every leg reads every column of every candidate
    monkeypatch.setattr(search_mod, "_LEG_COLUMNS", list(search_mod._COLUMNS))
    n_hits = 0
    for q in QUERIES:
        vec = idx.embed_queries([q])[0]
        for cfg in CONFIGS:
            for flt in FILTERS:
                full = _dump(idx.search(q, vector=vec, **cfg, **flt))
                assert fast[q, repr(cfg), repr(flt)] == full, (q, cfg, flt)
                n_hits += len(full)
    assert n_hits > 100  # the grid compared real results, not empty lists
    hit = idx.search(QUERIES[0], k=1)[0]
    assert (
        hit.text
        and hit.span.startswith(hit.source)
        and set(hit.scores)
        == {
            "vector",
            "keyword",
            "fused",
        }
    )


def test_legs_read_only_the_asked_columns_and_fetch_completes_them(idx):
    vec = idx.embed_queries(["hybrid search ranking"])[0]
    light = vector_leg(idx.table, vec, 5, None, columns=["id"])
    assert set(light[0]) == {"id", "_rowid", "_leg_score"}
    kw = keyword_leg(idx.table, "budget", 5, None, columns=["id", "doc_id"])
    assert set(kw[0]) == {"id", "doc_id", "_rowid", "_leg_score"}
    full = {r["id"]: r for r in vector_leg(idx.table, vec, 5, None)}
    fetch_rows(idx.table, light)
    for r in light:
        want = {k: v for k, v in full[r["id"]].items() if k != "_rowid"}
        assert {k: v for k, v in r.items() if k != "_rowid"} == want
    # stale row ids (the table was compacted since): rows are found by id instead
    stale = [{"id": r["id"], "_rowid": 10**12 + i} for i, r in enumerate(kw)]
    fetch_rows(idx.table, stale)
    assert [r["text"] for r in stale] == [
        next(c["text"] for c in idx.chunks() if c["id"] == r["id"]) for r in kw
    ]
    with pytest.raises(KeyError, match="vanished"):
        fetch_rows(idx.table, [{"id": "no-such-chunk#0", "_rowid": None}])
