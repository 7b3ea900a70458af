"""Text scorers: exact, includes, regex, numeric (final-answer extraction), choice, F1,
custom scorers, and scorer errors kept explicit."""

from __future__ import annotations

import asyncio

import pytest

from forgekit.core.errors import ConfigError
from forgekit.core.samples import Answer, Sample, Score
from forgekit.evals import build_scorer, scorer
from forgekit.evals.text_scorers import extract_choice, extract_final_number, token_f1


def _score(spec, target, text, **sample):
    s = Sample(id="s", input="q", target=target, **sample)
    return asyncio.run(build_scorer(spec)(s, Answer(text=text)))


def test_exact_normalises_unless_told_not_to() -> None:
    assert _score("exact", "Paris", "  paris. ").value == 1.0
    assert _score({"type": "exact", "normalize": False}, "Paris", "paris").value == 0.0
    assert _score("exact", ["Rome", "Roma"], "The Roma").value == 1.0
    assert _score("exact", "Paris", "Lyon").explanation


def test_includes_and_regex() -> None:
    assert _score("includes", "blue whale", "It is the Blue Whale.").value == 1.0
    assert _score("includes", "blue whale", "a shark").value == 0.0
    r = _score({"type": "regex", "pattern": r"\b4[0-9]\b"}, None, "about 42 of them")
    assert r.value == 1.0 and r.answer == "42"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("so she has 8 apples.\n#### 8", 8.0),
        ("3 + 5 = 8", 8.0),
        ("The answer is $1,250.", 1250.0),
        ("First 2, then 3, finally 7", 7.0),
        ("no digits here", None),
        ("-4.5", -4.5),
    ],
)
def test_final_number_extraction(text: str, expected: float | None) -> None:
    assert extract_final_number(text)[0] == expected


def test_numeric_tolerance_and_explanation() -> None:
    ok = _score({"type": "numeric", "tolerance": 0.01}, "3.14", "pi is about 3.141")
    assert ok.value == 1.0 and "3.141" in ok.explanation
    bad = _score("numeric", "10", "The answer is 12")
    assert bad.value == 0.0 and "target" in bad.explanation
    rel = _score({"type": "numeric", "tolerance": 0.05, "relative": True}, "1000", "1040")
    assert rel.value == 1.0


@pytest.mark.parametrize(
    "text,letter",
    [
        ("B", "B"),
        ("(c) because", "C"),
        ("The answer is D.", "D"),
        ("I pick Dolphin", "B"),
        ("none of them", None),
    ],
)
def test_choice_extraction(text: str, letter: str | None) -> None:
    choices = ["Shark", "Dolphin", "Trout", "Octopus"]
    assert extract_choice(text, choices)[0] == letter


def test_choice_scorer() -> None:
    choices = ["Shark", "Dolphin", "Trout", "Octopus"]
    assert _score("choice", "B", "Answer: B", choices=choices).value == 1.0
    assert _score("choice", "B", "A. Shark", choices=choices).value == 0.0


def test_token_f1() -> None:
    assert token_f1("the blue whale", "blue whale") == 1.0
    assert token_f1("a big blue fish", "blue whale") == pytest.approx(0.4)
    assert _score("f1", ["x y", "blue whale"], "whale").value == pytest.approx(2 / 3)


def test_custom_scorer_by_decorator_and_errors_are_explicit() -> None:
    @scorer("shorter_than_5")
    def short(sample, answer, ctx=None, limit: int = 5):
        return len(answer.text) < limit

    assert _score("shorter_than_5", None, "abc").value == 1.0
    assert _score({"type": "shorter_than_5", "limit": 2}, None, "abc").value == 0.0

    @scorer("crashes")
    def crashes(sample, answer, ctx=None):
        raise ValueError("boom")

    s = _score("crashes", None, "x")
    assert isinstance(s, Score) and s.value is None and "boom" in s.error


def test_unknown_scorer_and_bad_params_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown scorer 'nope'"):
        build_scorer("nope")
    with pytest.raises(ConfigError, match="no parameter"):
        build_scorer({"type": "numeric", "tolerence": 1})
