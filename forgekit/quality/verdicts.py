"""Reading judges' replies. A reply that cannot be read returns ``None``; the strategy
then falls back (a tie, a skipped score, the first candidate) and records a note, so a
confused judge never crashes a run."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from forgekit.core.context import RunContext

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
        return "A" if m.group(1).upper() == "A" else "B"
    named = set(
        re.findall(r"\b(?:answer|response|candidate|option)\s*\(?([AB])\)?\b", t, re.IGNORECASE)
    )
    named = {x.upper() for x in named}
    if len(named) == 1:
        return named.pop()
    bare = {x for x in re.findall(r"\b([AB])\b", t)}
    if len(bare) == 1:
        return bare.pop()
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


# -- verdicts as JSON ------------------------------------------------------------------
# Judges ask for their verdict with a JSON schema (`response_format`) where the endpoint
# enforces one (llama.cpp and vLLM by grammar, OpenAI by strict mode): even a tiny model
# then answers in a readable shape. The verdict field comes first, so that a reply cut
# short by max_tokens still carries it. Elsewhere the text parsers above still apply.

STRUCTURED_NOTE = "\n\nReply in JSON only, exactly of this shape: {shape}"


def verdict_format(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A `response_format` asking for a JSON object with these properties (all required,
    in order, nothing else)."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": name,
            "strict": True,
            "schema": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        },
    }


def grade_format() -> dict[str, Any]:
    """The LLM judge's verdict: C (correct) or I (incorrect), then a short reason."""
    return verdict_format(
        "grade", {"grade": {"type": "string", "enum": ["C", "I"]}, "reason": {"type": "string"}}
    )


def score_format(lo: int = 0, hi: int = 10) -> dict[str, Any]:
    """A reviewer's score, an integer in [lo, hi]."""
    return verdict_format("score", {"score": {"type": "integer", "enum": list(range(lo, hi + 1))}})


def choice_format(n: int, base: int = 1) -> dict[str, Any]:
    """A chooser's pick among `n` numbered options."""
    return verdict_format("choice", {"choice": {"type": "integer", "enum": list(range(base, base + n))}})


def preference_format() -> dict[str, Any]:
    """A pairwise judge's preference."""
    return verdict_format("preference", {"winner": {"type": "string", "enum": ["A", "B", "tie"]}})


_FIELD = r'"{key}"\s*:\s*(?:"([^"]*)"|(-?\d+(?:\.\d+)?))'


def json_field(text: str, key: str) -> Any:
    """The value of `key` in a JSON verdict (a whole object, one inside prose or a code
    fence, or one cut short after the field); None if there is none."""
    t = (text or "").strip()
    start, end = t.find("{"), t.rfind("}")
    if start >= 0 and end > start:
        try:
            data = json.loads(t[start : end + 1])
            if isinstance(data, dict) and key in data:
                return data[key]
        except json.JSONDecodeError:
            pass
    m = re.search(_FIELD.format(key=re.escape(key)), t)
    if not m:
        return None
    if m.group(1) is not None:
        return m.group(1)
    number = float(m.group(2))
    return int(number) if number.is_integer() else number


def supports_schema(ctx: RunContext, model: str | None) -> bool:
    """Whether the alias a call goes to enforces a JSON-schema `response_format`
    (asked of the gateway; False for gateways that cannot say)."""
    ask = getattr(getattr(ctx, "gateway", None), "supports_response_schema", None)
    if ask is None:
        return False
    try:
        return bool(ask(model or getattr(ctx, "model", None)))
    except Exception:  # an unknown alias fails on the call itself, with a clear error
        return False
