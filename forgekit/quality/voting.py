"""Majority vote over normalised answers, with a deterministic tie-break.

Tie-break (documented in docs/quality.md): among the keys with the most votes, the one
whose first supporting candidate came earliest wins. Candidates are numbered in the
order they were started, so the result does not depend on which call finished first.
Candidates whose key is ``None`` (nothing usable in the answer) never win unless no
candidate has a key, in which case the first candidate is returned.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field


class VoteResult(BaseModel):
    """The outcome of one vote."""

    winner_key: str | None
    winner_index: int  # the first candidate holding the winning key
    counts: dict[str, int] = Field(default_factory=dict)
    tied: list[str] = Field(default_factory=list)  # keys tied for first place (if >1)
    abstained: int = 0  # candidates without a key


def majority_vote(keys: Sequence[str | None]) -> VoteResult:
    """Vote over candidate keys (index = candidate number). Needs at least one key."""
    if not keys:
        raise ValueError("majority_vote needs at least one candidate")
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key is None:
            continue
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, i)
    abstained = sum(1 for k in keys if k is None)
    if not counts:
        return VoteResult(winner_key=None, winner_index=0, abstained=abstained)
    top = max(counts.values())
    tied = sorted((k for k, c in counts.items() if c == top), key=lambda k: first[k])
    winner = tied[0]
    return VoteResult(
        winner_key=winner,
        winner_index=first[winner],
        counts=counts,
        tied=tied if len(tied) > 1 else [],
        abstained=abstained,
    )
