"""The PII filter applied to every chunk before anything is persisted: emails, phone
numbers, IBANs (mod-97 checked), credit cards (Luhn checked), API-key-like secrets and
configurable patterns, each replaced by a typed placeholder such as `[EMAIL]`."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"(?<!\d)(?:\d[ \-]?){12,18}\d(?!\d)")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?\d{2,4}(?:[ .\-]\d{2,4}){1,4}(?![\w])"
)
_SECRET = re.compile(
    r"(sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"
    r"|AIza[0-9A-Za-z_\-]{30,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|hf_[A-Za-z0-9]{30,}"
    r"|xox[abpr]-[A-Za-z0-9\-]{10,}"
    r"|(?<=Bearer )[A-Za-z0-9._\-]{16,}"
    r"|(?i:(?<=api_key=)|(?<=apikey=)|(?<=token=)|(?<=secret=)|(?<=password=))"
    r"(?=[A-Za-z0-9_\-]*\d)[A-Za-z0-9_\-]{16,}(?![\w.(]))"
)


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a card number (digits only)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    s = iban.replace(" ", "").upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1


class PIIPattern(BaseModel):
    """A user pattern: matches of `regex` become `[LABEL]`."""

    model_config = ConfigDict(extra="forbid")

    label: str
    regex: str

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"not a valid regular expression: {e}") from e
        return v


class PIIConfig(BaseModel):
    """Which detectors run. Built-ins: email, phone, iban, credit_card, secret."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    detectors: list[str] = Field(
        default_factory=lambda: ["secret", "email", "iban", "credit_card", "phone"]
    )
    patterns: list[PIIPattern] = Field(default_factory=list)

    @field_validator("detectors")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [d for d in v if d not in BUILTIN_DETECTORS]
        if bad:
            raise ValueError(f"unknown detector(s) {bad}; known: {sorted(BUILTIN_DETECTORS)}")
        return v


def _sub_checked(
    regex: re.Pattern[str],
    label: str,
    check: Callable[[str], bool] | None,
    text: str,
    hits: Counter[str],
) -> str:
    def repl(m: re.Match[str]) -> str:
        if check is not None and not check(m.group(0)):
            return m.group(0)
        hits[label] += 1
        return f"[{label}]"

    return regex.sub(repl, text)


def _card_ok(s: str) -> bool:
    digits = re.sub(r"\D", "", s)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _phone_ok(s: str) -> bool:
    digits = re.sub(r"\D", "", s)
    # 7-15 digits (E.164), and not something that looks like a date or a version
    if not 7 <= len(digits) <= 15:
        return False
    if re.fullmatch(r"\d{4}[.\-]\d{2}[.\-]\d{2}", s.strip()):
        return False
    return s.strip().startswith(("+", "(")) or len(digits) >= 9 or "-" in s or " " in s


def _gate(pattern: str) -> Callable[[str], bool]:
    rx = re.compile(pattern)
    return lambda text: rx.search(text) is not None


# a cheap test that is true of every text a detector can match (a literal or a run of
# digits the pattern cannot match without): most chunks skip most patterns, same result
_GATES: dict[str, Callable[[str], bool]] = {
    "secret": _gate(r"sk-|AIza|gh[pousr]_|AKIA|hf_|xox[abpr]-|Bearer |="),
    "email": lambda text: "@" in text,
    "iban": _gate(r"[A-Z]{2}\d\d"),
    "credit_card": _gate(r"\d[ \-]?\d[ \-]?\d[ \-]?\d"),
    "phone": _gate(r"\d\d[ .\-]\d\d"),
}

BUILTIN_DETECTORS: dict[str, tuple[re.Pattern[str], str, Callable[[str], bool] | None]] = {
    "secret": (_SECRET, "SECRET", None),
    "email": (_EMAIL, "EMAIL", None),
    "iban": (_IBAN, "IBAN", iban_ok),
    "credit_card": (_CARD, "CREDIT_CARD", _card_ok),
    "phone": (_PHONE, "PHONE", _phone_ok),
}


class PIIFilter:
    """Replaces PII with typed placeholders and counts what it replaced.

    Example:
        >>> PIIFilter().apply("mail jane@example.org")
        ('mail [EMAIL]', Counter({'EMAIL': 1}))
    """

    def __init__(self, cfg: PIIConfig | None = None) -> None:
        self.cfg = cfg or PIIConfig()
        self._custom = [(re.compile(p.regex), p.label.upper()) for p in self.cfg.patterns]

    def apply(self, text: str) -> tuple[str, Counter[str]]:
        """The filtered text and the number of hits per placeholder label."""
        hits: Counter[str] = Counter()
        if not self.cfg.enabled or not text:
            return text, hits
        for regex, label in self._custom:
            text = _sub_checked(regex, label, None, text, hits)
        for name in self.cfg.detectors:  # order matters: cards before phones
            if not _GATES[name](text):
                continue
            regex, label, check = BUILTIN_DETECTORS[name]
            text = _sub_checked(regex, label, check, text, hits)
        return text, hits
