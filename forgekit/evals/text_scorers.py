"""Text scorers: exact / normalised match, includes, regex, numeric with final-answer
extraction (GSM8K style), multiple-choice letter extraction, token F1."""

from __future__ import annotations

import re
import string
from collections import Counter

from forgekit.core import answers
from forgekit.core.answers import canonical_number
from forgekit.core.context import RunContext
from forgekit.core.samples import Answer, Sample, Score
from forgekit.evals.scorer_registry import scorer

_PUNCT = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalise(text: str) -> str:
    """Lowercase, drop punctuation and articles, squeeze whitespace (SQuAD style)."""
    text = text.lower()
    text = text.translate(_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _targets(sample: Sample) -> list[str]:
    return sample.targets


@scorer("exact")
def exact(sample: Sample, answer: Answer, ctx: RunContext | None = None, *, normalize: bool = True) -> Score:
    """1 when the answer equals a target (after normalisation unless `normalize: false`)."""
    got = answer.text.strip()
    norm = normalise if normalize else (lambda s: s.strip())
    for t in _targets(sample):
        if norm(got) == norm(t):
            return Score(scorer="exact", value=1.0, answer=got, explanation=f"matches {t!r}")
    return Score(
        scorer="exact",
        value=0.0,
        answer=got,
        explanation=f"{got[:80]!r} matches none of {_targets(sample)!r}",
    )


@scorer("includes")
def includes(sample: Sample, answer: Answer, ctx: RunContext | None = None, *, ignore_case: bool = True) -> Score:
    """1 when a target occurs in the answer."""
    got = answer.text
    hay = got.lower() if ignore_case else got
    for t in _targets(sample):
        if (t.lower() if ignore_case else t) in hay:
            return Score(scorer="includes", value=1.0, answer=got, explanation=f"contains {t!r}")
    return Score(
        scorer="includes",
        value=0.0,
        answer=got,
        explanation=f"contains none of {_targets(sample)!r}",
    )


@scorer("regex")
def regex(
    sample: Sample,
    answer: Answer,
    ctx: RunContext | None = None,
    *,
    pattern: str | None = None,
    ignore_case: bool = True,
) -> Score:
    """1 when `pattern` (default: each target taken as a pattern) matches the answer."""
    flags = re.I if ignore_case else 0
    patterns = [pattern] if pattern else _targets(sample)
    for p in patterns:
        m = re.search(p, answer.text, flags)
        if m:
            return Score(
                scorer="regex",
                value=1.0,
                answer=m.group(0),
                explanation=f"/{p}/ matched {m.group(0)!r}",
            )
    return Score(
        scorer="regex", value=0.0, answer=answer.text, explanation=f"no match for {patterns!r}"
    )


def _to_number(text: str) -> float | None:
    value = canonical_number(text)
    return float(value) if value is not None else None


def extract_final_number(text: str) -> tuple[float | None, str]:
    """The final numeric answer in free text and how it was found (after '####' /
    'answer is' / '=' if present, else the last number; fractions are values). The same
    extractor the quality strategies vote with: `forgekit.core.answers`."""
    value, how = answers.extract_number(text)
    return (float(value) if value is not None else None), how


@scorer("numeric")
def numeric(
    sample: Sample,
    answer: Answer,
    ctx: RunContext | None = None,
    *,
    tolerance: float = 1e-6,
    relative: bool = False,
) -> Score:
    """1 when the final number in the answer equals the target within `tolerance`."""
    value, how = extract_final_number(answer.text)
    targets = [_to_number(t) for t in _targets(sample)]
    if value is None:
        return Score(scorer="numeric", value=0.0, answer=answer.text, explanation=how)
    for t in targets:
        if t is None:
            continue
        tol = tolerance * max(abs(t), 1e-12) if relative else tolerance
        if abs(value - t) <= tol:
            return Score(
                scorer="numeric",
                value=1.0,
                answer=f"{value:g}",
                explanation=f"{how} = {value:g} equals target {t:g}",
            )
    return Score(
        scorer="numeric",
        value=0.0,
        answer=f"{value:g}",
        explanation=f"{how} = {value:g}, target {targets}",
    )


def extract_choice(text: str, choices: list[str]) -> tuple[str | None, str]:
    """The letter a free-text answer picks among `choices` (A, B, ...), or the letter of a
    choice whose text it repeats (`forgekit.core.answers`)."""
    return answers.extract_choice(text, choices)


@scorer("choice")
def choice(sample: Sample, answer: Answer, ctx: RunContext | None = None) -> Score:
    """Multiple choice: the extracted letter equals the target letter."""
    choices = sample.choices or []
    letter, how = extract_choice(answer.text, choices)
    target = (_targets(sample) or [""])[0].strip().upper()
    ok = letter is not None and letter == target
    return Score(
        scorer="choice", value=float(ok), answer=letter, explanation=f"{how}; target {target}"
    )


def token_f1(pred: str, gold: str) -> float:
    p, g = normalise(pred).split(), normalise(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


@scorer("f1")
def f1(sample: Sample, answer: Answer, ctx: RunContext | None = None) -> Score:
    """Token F1 (SQuAD style) against the best-matching target."""
    best, best_t = 0.0, None
    for t in _targets(sample):
        v = token_f1(answer.text, t)
        if v >= best:
            best, best_t = v, t
    return Score(
        scorer="f1",
        value=best,
        answer=answer.text,
        explanation=f"token F1 {best:.2f} against {best_t!r}",
    )
