"""Reading the answer out of free text: the final number, the chosen letter.

One extractor for everything that grades or compares answers: the scorers (`numeric`,
`choice`) grade what it finds and the quality strategies vote on it, so a vote and a
score never disagree about what an answer said.

    >>> extract_number("x = 3/4")
    ('0.75', "marked answer '3/4'")
    >>> extract_choice("I think A is wrong, so B", ["Rome", "Paris", "Oslo"])
    ('B', 'letter B (the last one the answer names)')
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

LETTERS = string.ascii_uppercase

_NUMBER = re.compile(r"-?\$?\d(?:[\d,]*\d)?(?:\.\d+)?(?:/\d+)?|-?\.\d+")
# the number after a final-answer marker ("#### 8", "final answer: 8", "answer is 8",
# "= 8"), bold markdown and currency allowed in between
_MARKED = re.compile(
    r"(?:####|final answer\s*(?:is|:)?|answer\s*(?:is|:)|=)\s*\**\s*\$?\s*"
    r"(-?\d(?:[\d,]*\d)?(?:\.\d+)?(?:/\d+)?|-?\.\d+)",
    re.IGNORECASE,
)


def canonical_number(token: str) -> str | None:
    """``"1,000.50"`` -> ``"1000.5"``, ``"3/4"`` -> ``"0.75"``, ``"$5"`` -> ``"5"``; None
    when `token` is not a number."""
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


def extract_number(text: str) -> tuple[str | None, str]:
    """The answer's number in canonical form and how it was found: the last number after
    a final-answer marker, else the last number in the text. Fractions are values
    (``"3/4"`` is 0.75)."""
    for token in reversed(_MARKED.findall(text)):
        value = canonical_number(token)
        if value is not None:
            return value, f"marked answer {token!r}"
    for token in reversed(_NUMBER.findall(text)):
        value = canonical_number(token)
        if value is not None:
            return value, f"last number {token!r}"
    return None, "no number in the answer"


def _letter_patterns(valid: str) -> list[tuple[re.Pattern[str], str, bool]]:
    """(pattern, description, take the last match) in order of trust."""
    return [
        (re.compile(rf"(?i:answer\s*(?:is|:)?)\s*\(?([{valid}])\)?(?![A-Za-z])"),
         "after 'answer'", True),
        (re.compile(rf"^\s*\(?([{valid}{valid.lower()}])\)?(?:[.):]|\s*$)"),
         "leading", False),
        (re.compile(rf"^\s*\(([{valid.lower()}])\)"), "leading", False),
        (re.compile(rf"\(([{valid}])\)"), "in parentheses", True),
        (re.compile(rf"\b([{valid}])[.)]\s"), "as a list mark", True),
        (re.compile(rf"\b([{valid}])\b"), "the last one the answer names", True),
    ]


def _plain(text: str) -> str:
    return " ".join(text.lower().translate(str.maketrans("", "", string.punctuation)).split())


def extract_choice(
    text: str, choices: Sequence[str] | None = None
) -> tuple[str | None, str]:
    """The letter (``"A"``, ``"B"``, ...) a multiple-choice answer picks, and how it was
    found: an explicit letter among the valid ones (after "answer", leading, in
    parentheses, as a list mark, else the *last* standalone capital the answer names, so
    "A is wrong, so B" is B), then the text of exactly one choice repeated in the answer."""
    n = len(choices) if choices else 26
    valid = LETTERS[:n]
    stripped = text.strip()
    if not stripped:
        return None, "empty answer"
    for pattern, how, last in _letter_patterns(valid):
        found = pattern.findall(stripped)
        if found:
            letter = (found[-1] if last else found[0]).upper()
            return letter, f"letter {letter} ({how})"
    if choices:
        plain = _plain(stripped)
        hits = [i for i, c in enumerate(choices) if _plain(c) and _plain(c) in plain]
        if len(hits) == 1:
            return LETTERS[hits[0]], f"repeats the text of choice {LETTERS[hits[0]]}"
    return None, "no choice letter found"
