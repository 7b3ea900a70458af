"""Fusion of search legs: score fusion (the default), reciprocal rank fusion, pooling."""

from __future__ import annotations

import pytest

from forgekit.rag.fusion import fuse, fuse_scores, pool_by_doc
from forgekit.rag.search import SearchConfig


def leg(*pairs: tuple[str, float], doc: dict[str, str] | None = None) -> list[dict]:
    return [
        {"id": i, "doc_id": (doc or {}).get(i, i), "_leg_score": s, "text": f"text {i}"}
        for i, s in pairs
    ]


def test_score_fusion_divides_by_each_legs_best_and_weights_the_legs():
    legs = {
        "vector": leg(("a", 0.9), ("b", 0.6), ("c", 0.3)),
        "keyword": leg(("c", 10.0), ("a", 4.0)),
    }
    out = fuse_scores(legs, {"vector": 0.6, "keyword": 0.4})
    # a: 0.6*0.9/0.9 + 0.4*4/10; c: 0.6*0.3/0.9 + 0.4*10/10;
    # b: 0.6*0.6/0.9 + 0.4*0.4 (missing from BM25: that leg's lowest score, 4/10)
    assert [m["id"] for m in out] == ["a", "c", "b"]
    assert [m["_rrf"] for m in out] == pytest.approx([0.76, 0.6, 0.56])
    assert out[0]["_scores"] == {"vector": 0.9, "keyword": 4.0}
    assert out[0]["_ranks"] == {"vector": 1, "keyword": 2}
    assert out[2]["_ranks"] == {"vector": 2} and out[2]["text"] == "text b"


def test_score_fusion_counts_score_gaps_where_rrf_only_sees_ranks():
    legs = {"vector": leg(("a", 0.90), ("b", 0.85)), "keyword": leg(("b", 10.0), ("a", 1.0))}
    # ranks are symmetric: RRF ties a and b (then orders by id)
    rrf = fuse(legs, {"vector": 1.0, "keyword": 1.0}, 60)
    assert rrf[0]["_rrf"] == pytest.approx(rrf[1]["_rrf"]) and rrf[0]["id"] == "a"
    # b is close to the vector leader but far ahead in BM25: score fusion puts it first
    score = fuse_scores(legs, {"vector": 0.6, "keyword": 0.4})
    assert [m["id"] for m in score] == ["b", "a"]
    assert score[0]["_rrf"] == pytest.approx(0.6 * 0.85 / 0.9 + 0.4)
    assert score[1]["_rrf"] == pytest.approx(0.6 + 0.4 * 0.1)


def test_score_fusion_skips_an_empty_leg_and_keeps_order_with_negative_scores():
    out = fuse_scores({"vector": leg(("a", -0.1), ("b", -0.3)), "keyword": []}, {})
    # divided by |best| (a positive scale), so the better cosine stays first
    assert [(m["id"], m["_rrf"]) for m in out] == [
        ("a", pytest.approx(-1.0)),
        ("b", pytest.approx(-3.0)),
    ]
    assert fuse_scores({"vector": [], "keyword": []}, {}) == []
    # an all-zero leg (scale 0) does not divide by zero
    zero = fuse_scores({"keyword": leg(("a", 0.0), ("b", 0.0))}, {})
    assert [m["_rrf"] for m in zero] == [0.0, 0.0]


def test_fusion_by_document_keeps_each_legs_best_chunk_once():
    doc = {"a#0": "A", "a#1": "A", "b#0": "B"}
    legs = {
        "vector": leg(("a#1", 0.8), ("b#0", 0.4), ("a#0", 0.2), doc=doc),
        "keyword": leg(("a#0", 6.0), ("b#0", 3.0), doc=doc),
    }
    out = fuse_scores(legs, {"vector": 0.5, "keyword": 0.5}, key="doc_id")
    assert [m["doc_id"] for m in out] == ["A", "B"]
    # A: its best chunk per leg (a#1 for vectors, a#0 for BM25), each counted once
    assert out[0]["_rrf"] == pytest.approx(0.5 * 1.0 + 0.5 * 1.0)
    assert out[0]["_scores"] == {"vector": 0.8, "keyword": 6.0}
    assert out[0]["id"] == "a#1"  # the row shown is the first leg's best chunk
    assert out[1]["_rrf"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.5)
    rrf = fuse(legs, {}, 0, key="doc_id")
    assert [(m["doc_id"], m["_rrf"]) for m in rrf] == [
        ("A", pytest.approx(1 / 1 + 1 / 1)),
        ("B", pytest.approx(1 / 2 + 1 / 2)),
    ]


def test_weighted_rrf_values():
    legs = {"vector": leg(("a", 0.9), ("b", 0.5)), "keyword": leg(("b", 3.0))}
    out = fuse(legs, {"vector": 1.0, "keyword": 1.5}, 60)
    assert [m["id"] for m in out] == ["b", "a"]
    assert out[0]["_rrf"] == pytest.approx(1 / 62 + 1.5 / 61)
    assert out[1]["_rrf"] == pytest.approx(1 / 61)


def test_pool_by_doc_keeps_the_first_row_of_each_document():
    rows = leg(("a#0", 3.0), ("b#0", 2.0), ("a#1", 1.0), doc={"a#0": "A", "a#1": "A"})
    assert [r["id"] for r in pool_by_doc(rows)] == ["a#0", "b#0"]


def test_defaults_are_score_fusion_and_the_old_rrf_default_is_one_config_away():
    cfg = SearchConfig()
    assert (cfg.fusion, cfg.vector_weight, cfg.keyword_weight) == ("score", 0.6, 0.4)
    old = SearchConfig(fusion="rrf", vector_weight=1.0, keyword_weight=1.5)
    assert old.rrf_k == 60 and old.mode == "hybrid"
    with pytest.raises(ValueError):
        SearchConfig(fusion="borda")


def test_the_standard_eval_configs_name_the_default_and_plain_rrf():
    from forgekit.rag.retrieval_eval import STANDARD_CONFIGS

    assert SearchConfig(**STANDARD_CONFIGS["hybrid"]) == SearchConfig()
    rrf = SearchConfig(**STANDARD_CONFIGS["hybrid-rrf"])
    assert (rrf.fusion, rrf.vector_weight, rrf.keyword_weight) == ("rrf", 1.0, 1.0)


def test_a_real_index_fuses_by_score_by_default_and_by_rrf_on_request(docs_dir, tmp_path, embedder):
    from forgekit.rag import Index

    idx = Index(
        docs_dir,
        name="fusion",
        project_dir=tmp_path / "p",
        embedder=embedder,
        keywords={"enabled": False},
    )
    q = "reciprocal rank fusion of BM25 and vectors"
    top = idx.search(q, k=3)[0]
    assert top.source == "guide/search.md" and top.ranks == {"vector": 1, "keyword": 1}
    # first in both legs: 0.6 * 1 + 0.4 * 1
    assert set(top.scores) == {"vector", "keyword", "fused"}
    assert top.score == pytest.approx(1.0) == top.scores["fused"]
    old = idx.search(q, k=3, fusion="rrf", vector_weight=1.0, keyword_weight=1.5)[0]
    assert set(old.scores) == {"vector", "keyword", "rrf"} and old.id == top.id
    assert old.score == pytest.approx(1 / 61 + 1.5 / 61)
    # documents ranked by their best chunk: one hit per document
    by_doc = idx.search("install offline", k=10, group_by_doc=True)
    assert len({h.doc_id for h in by_doc}) == len(by_doc) > 1


class _WordEmbedder:
    """Vectors from two words: dimension 0 'apple', 1 'zebra', 2 a small constant."""

    model_id = "test:words"
    dim = 3

    def embed(self, texts):
        import numpy as np

        v = np.array(
            [[float("apple" in t), float("zebra" in t), 0.1] for t in texts], dtype=np.float32
        )
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_group_by_doc_fuses_each_documents_best_chunk_of_every_leg(tmp_path):
    import numpy as np

    from forgekit.rag import Index

    docs = [
        # two windows: one all 'zebra' (the BM25 match), one all 'apple' (the vector match)
        {"id": "A", "text": " ".join(["zebra"] * 8 + ["apple"] * 8)},
        {"id": "B", "text": "apple zebra apple zebra mango kiwi pear plum"},
        {"id": "C", "text": "zebra mango kiwi pear plum fig lime date"},
    ]
    idx = Index(
        docs,
        name="pool",
        project_dir=tmp_path / "p",
        embedder=_WordEmbedder(),
        chunking={"chunk_size": 8, "overlap": 0},
        keywords={"enabled": False},
        pii={"enabled": False},
    )
    assert len(idx) == 4
    apple = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    hits = idx.search("zebra", vector=apple, k=3, group_by_doc=True)
    assert [h.doc_id for h in hits] == ["A", "B", "C"]
    # A: best vector chunk (A#1) and best BM25 chunk (A#0) both count: 0.6 + 0.4
    assert hits[0].ranks == {"vector": 1, "keyword": 1}
    assert hits[0].score == pytest.approx(1.0)
    # per chunk, A's two halves each lead one leg only: neither gets both scores
    chunks = {h.id: h.score for h in idx.search("zebra", vector=apple, k=4)}
    assert chunks["A#0"] == pytest.approx(0.4)  # cosine 0: BM25 alone
    assert chunks["A#1"] < 0.9  # no 'zebra': the BM25 leg's lowest score
