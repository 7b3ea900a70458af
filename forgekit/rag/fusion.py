"""Fusion of search legs (vector, BM25, keywords) into one ranking: score fusion (the
default) or reciprocal rank fusion, and max-pooling of chunks into documents.

A leg is a list of rows best first, each a dict with at least `id`, `doc_id` and
`_leg_score` (cosine similarity, BM25, ...). A fused row keeps its per-leg scores in
`_scores`, its per-leg ranks in `_ranks` and the fused score in `_rrf` (the name is
historical: it holds the fused score whatever the fusion)."""

from __future__ import annotations

from typing import Any, Literal

Fusion = Literal["score", "rrf"]

# the name of the fused score in a hit's `scores`, per fusion
FUSED_SCORE_NAME: dict[str, str] = {"score": "fused", "rrf": "rrf"}


def _merged(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "_scores": {}, "_ranks": {}, "_rrf": 0.0}


def fuse(
    legs: dict[str, list[dict[str, Any]]],
    weights: dict[str, float],
    rrf_k: int,
    *,
    key: str = "id",
) -> list[dict[str, Any]]:
    """Weighted reciprocal rank fusion: score = sum over legs of w / (rrf_k + rank).

    Args:
        legs: leg name -> rows, best first.
        weights: leg name -> weight (missing: 1.0).
        rrf_k: the RRF constant.
        key: the row field that identifies a result ("id": chunks, "doc_id": documents).

    Returns:
        The fused rows, best first (ties by key); each keeps its per-leg scores and ranks.
    """
    merged: dict[str, dict[str, Any]] = {}
    for leg, rows in legs.items():
        w = weights.get(leg, 1.0)
        for rank, r in enumerate(rows, 1):
            m = merged.setdefault(r[key], _merged(r))
            if leg in m["_ranks"]:  # a second row with the same key: keep the first
                continue
            m["_scores"][leg] = r["_leg_score"]
            m["_ranks"][leg] = rank
            m["_rrf"] += w / (rrf_k + rank)
    return sorted(merged.values(), key=lambda m: (-m["_rrf"], m[key]))


def fuse_scores(
    legs: dict[str, list[dict[str, Any]]],
    weights: dict[str, float],
    *,
    key: str = "id",
) -> list[dict[str, Any]]:
    """Score fusion: score = sum over legs of w * score / (the leg's best score).

    Each leg's scores are divided by that leg's best score, so the best hit of every leg
    scores 1 and the others keep their distance to it (a BM25 runner-up at half the top
    score counts half; RRF would count it almost as much as the top). A row that a leg
    did not return takes the lowest score that leg returned (it ranked below all of
    them). An empty leg adds nothing. With weights summing to 1 the fused score is in
    [0, 1] for positive leg scores.

    Args:
        legs: leg name -> rows, best first.
        weights: leg name -> weight (missing: 1.0).
        key: the row field that identifies a result ("id": chunks, "doc_id": documents).

    Returns:
        The fused rows, best first (ties by key); each keeps its raw per-leg scores in
        `_scores`, its ranks in `_ranks` and the fused score in `_rrf`.
    """
    merged: dict[str, dict[str, Any]] = {}
    floors: dict[str, float] = {}
    for leg, rows in legs.items():
        if not rows:
            continue
        scores = [float(r["_leg_score"]) for r in rows]
        scale = abs(max(scores)) or 1.0  # only a positive scale keeps the order
        floors[leg] = min(scores) / scale
        for rank, (r, s) in enumerate(zip(rows, scores, strict=True), 1):
            m = merged.setdefault(r[key], _merged(r))
            if leg in m["_scores"]:  # a second row with the same key: keep the first
                continue
            m["_scores"][leg] = s
            m["_ranks"][leg] = rank
            m["_rrf"] += weights.get(leg, 1.0) * s / scale
    for m in merged.values():
        for leg, floor in floors.items():
            if leg not in m["_ranks"]:
                m["_rrf"] += weights.get(leg, 1.0) * floor
    return sorted(merged.values(), key=lambda m: (-m["_rrf"], m[key]))


def pool_by_doc(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Max-pooling: each document's best row only (rows are best first), in order."""
    seen: set[str] = set()
    out = []
    for r in rows:
        if r["doc_id"] not in seen:
            seen.add(r["doc_id"])
            out.append(r)
    return out
