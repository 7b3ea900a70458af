"""Retrieval metrics over ranked document ids and graded relevance judgments (qrels),
with the definitions BEIR/pytrec_eval use (nDCG with linear gains)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Normalised discounted cumulative gain of the first k results."""
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents found in the first k results."""
    rel = {d for d, g in relevant.items() if g > 0}
    if not rel:
        return 0.0
    return len(rel & set(ranked[:k])) / len(rel)


def mrr(ranked: Sequence[str], relevant: Mapping[str, int], k: int | None = None) -> float:
    """Reciprocal rank of the first relevant result (0 if none in the first k)."""
    for i, d in enumerate(ranked[:k] if k else ranked):
        if relevant.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def average_precision(
    ranked: Sequence[str], relevant: Mapping[str, int], k: int | None = None
) -> float:
    """Average precision (MAP is its mean over queries), over the first k results."""
    rel = {d for d, g in relevant.items() if g > 0}
    if not rel:
        return 0.0
    hits = 0
    total = 0.0
    for i, d in enumerate(ranked[:k] if k else ranked):
        if d in rel:
            hits += 1
            total += hits / (i + 1)
    return total / len(rel)
