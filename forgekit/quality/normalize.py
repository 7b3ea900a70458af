"""Turning free-text answers into comparable keys: numbers, choices, plain text.

Majority voting only works when equal answers look equal. `normalize_answer` maps an
answer text to a key (``"42"``, ``"B"``, ``"paris"``) or ``None`` when nothing usable
is in it; ``None`` never wins a vote while another candidate has a key.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from typing import Literal

NormalizeMode = Literal["auto", "number", "choice", "text", "exact"]
Normalizer = Callable[[str], "str | None"]

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")
_FINAL_MARKERS = re.compile(
    r"(?:####|final answer\s*(?:is|:)?|answer\s*(?:is|:)|=)\s*\$?\s*(-?[\d.,/]+)", re.IGNORECASE
)
LETTERS = string.ascii_uppercase


def canonical_number(token: str) -> str | None:
    """``"1,000.50"`` -> ``"1000.5"``, ``"3/4"`` -> ``"0.75"``; None when not a number."""
    token = token.strip().rstrip(".").replace(",", "").replace("$", "")
    try:
        if "/" in token:
            num, den = token.split("/", 1)
            value = float(num) / float(den)
        else:
            value = float(token)
    except (ValueError, ZeroDivisionError):
        return None
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def extract_number(text: str) -> str | None:
    """The answer's number: the one after a final-answer marker, else the last one."""
    marked = _FINAL_MARKERS.findall(text)
    for token in reversed(marked):
        value = canonical_number(token)
        if value is not None:
            return value
    for token in reversed(_NUMBER.findall(text)):
        value = canonical_number(token)
        if value is not None:
            return value
    return None


def extract_choice(text: str, choices: Sequence[str] | None = None) -> str | None:
    """The chosen letter (``"A"``, ``"B"``, ...) of a multiple-choice answer.

    Looks for an explicit letter (``"B"``, ``"(B)"``, ``"B)"``, ``"Answer: B"``) among the
    valid ones, then for the text of exactly one choice inside the answer.
    """
    n = len(choices) if choices else 26
    valid = LETTERS[:n]
    stripped = text.strip()
    patterns = [
        (rf"^\(?([{valid}])\)?(?:[.):\s]|$)", 0),  # leading "B", "(B)", "B." , "B:"
        (rf"^\(([{valid}])\)", re.IGNORECASE),  # leading "(b)"
        (rf"answer\s*(?:is|:)?\s*\(?([{valid}])\)?\b", re.IGNORECASE),  # "answer is B"
        (rf"\(([{valid}])\)", 0),  # "(B)" anywhere
        (rf"\b([{valid}])[.)]\s", 0),  # "B) ..." anywhere
    ]
    for pat, flags in patterns:
        m = re.search(pat, stripped, flags)
        if m:
            return m.group(1).upper()
    if choices:
        low = stripped.lower()
        hits = [i for i, c in enumerate(choices) if c.strip() and c.strip().lower() in low]
        if len(hits) == 1:
            return LETTERS[hits[0]]
    if len(stripped) == 1 and stripped.upper() in valid:
        return stripped.upper()
    return None


def normalize_text(text: str) -> str | None:
    """Lower case, collapsed whitespace, no surrounding punctuation or quotes."""
    out = " ".join(text.lower().split()).strip(string.punctuation + " \"'")
    return out or None


def resolve_mode(
    mode: NormalizeMode,
    texts: Sequence[str],
    choices: Sequence[str] | None = None,
    task_class: str | None = None,
    answer_type: str | None = None,
) -> NormalizeMode:
    """Pick a concrete mode for ``"auto"``: choices if the sample has them, numbers for
    math samples or when every non-empty answer holds a number, else text."""
    if mode != "auto":
        return mode
    if choices:
        return "choice"
    if answer_type in ("number", "choice", "text", "exact"):
        return answer_type  # type: ignore[return-value]
    if task_class == "math":
        return "number"
    filled = [t for t in texts if t.strip()]
    if filled and all(extract_number(t) is not None for t in filled):
        return "number"
    return "text"


def normalize_answer(
    text: str, mode: NormalizeMode | Normalizer = "text", choices: Sequence[str] | None = None
) -> str | None:
    """The comparable key of one answer text under `mode` (or a custom function)."""
    if callable(mode):
        return mode(text)
    if mode == "number":
        return extract_number(text)
    if mode == "choice":
        return extract_choice(text, choices)
    if mode == "exact":
        return text.strip() or None
    return normalize_text(text)
