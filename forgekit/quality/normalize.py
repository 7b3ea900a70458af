"""Turning free-text answers into comparable keys: numbers, choices, plain text.

Majority voting only works when equal answers look equal. `normalize_answer` maps an
answer text to a key (``"42"``, ``"B"``, ``"paris"``) or ``None`` when nothing usable
is in it; ``None`` never wins a vote while another candidate has a key. Numbers and
letters are read by `forgekit.core.answers`, the same extractor the scorers grade with.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from typing import Literal

from forgekit.core import answers
from forgekit.core.answers import LETTERS, canonical_number

NormalizeMode = Literal["auto", "number", "choice", "text", "exact"]
Normalizer = Callable[[str], "str | None"]

__all__ = ["LETTERS", "NormalizeMode", "Normalizer", "canonical_number", "extract_choice",
           "extract_number", "normalize_answer", "normalize_text", "resolve_mode"]

def extract_number(text: str) -> str | None:
    """The answer's number in canonical form (see `forgekit.core.answers`)."""
    return answers.extract_number(text)[0]


def extract_choice(text: str, choices: Sequence[str] | None = None) -> str | None:
    """The chosen letter (``"A"``, ``"B"``, ...) of a multiple-choice answer (see
    `forgekit.core.answers`)."""
    return answers.extract_choice(text, choices)[0]


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
        return answer_type  # type: ignore[return-value]  # one of the modes just named
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
