"""Tool recommendation: with many tools, rank them against the task by BM25 and offer the
model only the top k; when the ranking is unsure (no term matches, or the scores are too
close to tell apart), offer them all."""

from __future__ import annotations

import math
import re
from collections import Counter

from forgekit.agents.tools import Tool

_WORD = re.compile(r"[a-z0-9]+")
_STOP = {
    "a",
    "an",
    "the",
    "to",
    "of",
    "in",
    "on",
    "and",
    "or",
    "for",
    "is",
    "it",
    "with",
    "by",
    "be",
    "this",
    "that",
    "from",
    "as",
    "at",
    "your",
    "you",
    "me",
    "my",
    "i",
}


def _terms(text: str) -> list[str]:
    words = []
    for w in _WORD.findall(text.replace("_", " ").lower()):
        if w in _STOP:
            continue
        words.append(w[:-1] if len(w) > 3 and w.endswith("s") else w)  # crude plural folding
    return words


def bm25_scores(query: str, docs: list[str], k1: float = 1.5, b: float = 0.75) -> list[float]:
    """Okapi BM25 score of each document for the query."""
    toks = [_terms(d) for d in docs]
    n = len(docs)
    avg = sum(map(len, toks)) / n if n else 0.0
    df = Counter(t for d in toks for t in set(d))
    scores = []
    for d in toks:
        tf = Counter(d)
        s = 0.0
        for q in set(_terms(query)):
            if q not in tf:
                continue
            idf = math.log(1 + (n - df[q] + 0.5) / (df[q] + 0.5))
            s += idf * tf[q] * (k1 + 1) / (tf[q] + k1 * (1 - b + b * len(d) / (avg or 1)))
        scores.append(s)
    return scores


def recommend_tools(
    task: str, tools: list[Tool], k: int = 5, *, min_gap: float = 0.1
) -> list[Tool]:
    """The top `k` tools for the task by BM25 over their names, descriptions and
    parameters.

    - No tool matches a task term: all of them (there is nothing to rank by).
    - Fewer than `k` tools match: those, then the first unmatched ones in the order given,
      `k` in all (a tie at score 0 is not a reason to offer everything).
    - The k-th score is within `min_gap` (relative to the best) of the next ones: those
      near-ties are offered too, so the cut never falls between two equal tools.
    """
    if len(tools) <= k:
        return list(tools)
    docs = [
        f"{t.name} {t.name} {t.description} " + " ".join(t.parameters()["properties"])
        for t in tools
    ]
    scores = bm25_scores(task, docs)
    ranked = sorted(range(len(tools)), key=lambda i: -scores[i])  # stable: given order
    best = scores[ranked[0]]
    if best <= 0:
        return list(tools)
    kth = scores[ranked[k - 1]]
    if kth <= 0:
        return [tools[i] for i in ranked[:k]]
    cut = kth - min_gap * best
    return [tools[i] for i in ranked if scores[i] > 0 and (scores[i] >= cut)]
