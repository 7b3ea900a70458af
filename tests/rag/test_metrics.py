from __future__ import annotations

import math

import pytest

from forgekit.rag.metrics import average_precision, mrr, ndcg_at_k, recall_at_k


def test_ndcg_matches_hand_computation():
    rel = {"a": 1, "b": 2}
    ranked = ["x", "b", "a"]
    dcg = 2 / math.log2(3) + 1 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(ranked, rel, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["b", "a"], rel, 2) == pytest.approx(1.0)
    assert ndcg_at_k(["x"], rel, 1) == 0.0
    assert ndcg_at_k(["a"], {}, 1) == 0.0


def test_recall_mrr_map():
    rel = {"a": 1, "b": 1, "c": 0}
    ranked = ["x", "a", "y", "b"]
    assert recall_at_k(ranked, rel, 2) == 0.5
    assert recall_at_k(ranked, rel, 4) == 1.0
    assert mrr(ranked, rel) == 0.5
    assert mrr(["c", "x"], rel) == 0.0  # grade 0 is not relevant
    assert average_precision(ranked, rel) == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert average_precision(ranked, rel, k=2) == pytest.approx((1 / 2) / 2)
