"""Reading judges' replies. A reply that cannot be read returns ``None``; the strategy
then falls back (a tie, a skipped score, the first candidate) and records a note, so a
confused judge never crashes a run."""

from __future__ import annotations

import re
from typing import Literal

Preference = Literal["A", "B", "tie"]

_SCORE = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:/\s*(\d+(?:\.\d+)?))?")


def parse_score(text: str, lo: float = 0.0, hi: float = 10.0) -> float | None:
    """A numeric score in [lo, hi] from a reply like ``"Score: 7"`` or ``"8/10"``.

    A ``x/y`` fraction is rescaled to the range. Prefers the number after ``score``;
    otherwise the first number in range. Returns None when no number fits.
    """
    low = text.lower()
    at = low.find("score")
    candidates = list(_SCORE.finditer(low[at:] if at >= 0 else low))
    if at >= 0 and not candidates:
        candidates = list(_SCORE.finditer(low))
    for m in candidates:
        value = float(m.group(1))
        if m.group(2):
            den = float(m.group(2))
            if den <= 0:
                continue
            value = lo + (hi - lo) * value / den
        if lo <= value <= hi:
            return value
    return None


def parse_preference(text: str) -> Preference | None:
    """``"A"``, ``"B"`` or ``"tie"`` from a pairwise judge's reply; None if unreadable
    (or if it names both A and B without a clear winner)."""
    t = text.strip()
    low = t.lower()
    if re.search(r"\b(tie|equal(ly)?|same|both)\b", low) and not re.match(r"^\(?[ab]\b", low):
        return "tie"
    if {x.upper() for x in re.findall(r"\b([AB])\b", t)} == {"A", "B"}:
        return None  # names both: no clear winner
    m = re.match(r"^\W*(?:answer\s*)?\(?([AB])\)?(?:\W|$)", t, re.IGNORECASE)
    if m:
        return m.group(1).upper()  # type: ignore[return-value]
    named = set(
        re.findall(r"\b(?:answer|response|candidate|option)\s*\(?([AB])\)?\b", t, re.IGNORECASE)
    )
    named = {x.upper() for x in named}
    if len(named) == 1:
        return named.pop()  # type: ignore[return-value]
    bare = {x for x in re.findall(r"\b([AB])\b", t)}
    if len(bare) == 1:
        return bare.pop()  # type: ignore[return-value]
    return None


def parse_index(text: str, n: int, base: int = 1) -> int | None:
    """A 0-based index from a reply naming one of `n` numbered options (numbered from
    `base`); the first number in range wins. None if no number is in range."""
    for m in re.finditer(r"\d+", text):
        value = int(m.group()) - base
        if 0 <= value < n:
            return value
    return None


def parse_pass_fail(text: str) -> tuple[bool, str] | None:
    """``(True, "")`` for a PASS, ``(False, reason)`` for a FAIL, None if neither."""
    t = text.strip()
    m = re.search(r"\bFAIL(?:ED|S)?\b[\s:.\-]*(.*)", t, re.IGNORECASE | re.DOTALL)
    if m:
        return False, m.group(1).strip() or "rejected by the guardrail"
    if re.search(r"\b(PASS(?:ED|ES)?|ACCEPT(?:ED)?|VALID|OK)\b", t, re.IGNORECASE):
        return True, ""
    return None


def parse_agreement(text: str) -> bool:
    """True when a critic says it has nothing left to object (``AGREE``, ``no issues``)."""
    return bool(
        re.search(
            r"\b(AGREE|no (?:further )?(?:issues|objections|problems))\b", text, re.IGNORECASE
        )
    ) and not re.search(r"\bdisagree\b", text, re.IGNORECASE)
