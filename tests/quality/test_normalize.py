"""Normalisation, voting and reading judges' replies."""

from __future__ import annotations

import pytest

from forgekit.quality import extract_choice, extract_number, majority_vote, normalize_answer
from forgekit.quality.normalize import resolve_mode
from forgekit.quality.verdicts import (
    parse_agreement,
    parse_index,
    parse_pass_fail,
    parse_preference,
    parse_score,
)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("The answer is 42.", "42"),
        ("#### 1,000", "1000"),
        ("x = 3/4", "0.75"),
        ("5.0", "5"),
        ("first 3 then 7", "7"),
        ("answer: 12, because 3*4", "12"),
        ("no number", None),
        ("-2.50 dollars", "-2.5"),
    ],
)
def test_extract_number(text, expected):
    assert extract_number(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("B", "B"),
        ("(c) because", "C"),
        ("The answer is A", "A"),
        ("Paris", "B"),
        ("I like both Rome and Paris", None),
        ("D", None),
    ],
)
def test_extract_choice(text, expected):
    assert extract_choice(text, ["Rome", "Paris", "Oslo"]) == expected


def test_text_normalisation_and_modes():
    assert normalize_answer("  Paris. ", "text") == "paris"
    assert normalize_answer("Paris", lambda t: t[:1]) == "P"
    assert resolve_mode("auto", ["5", "six 6"]) == "number"
    assert resolve_mode("auto", ["five", "6"]) == "text"
    assert resolve_mode("auto", ["x"], choices=["a"]) == "choice"
    assert resolve_mode("auto", ["x"], task_class="math") == "number"


def test_vote_tie_break_and_abstentions():
    v = majority_vote([None, "b", "a", "a", "b"])
    assert v.winner_key == "b" and v.winner_index == 1 and v.tied == ["b", "a"]
    assert v.abstained == 1
    assert majority_vote([None, None]).winner_key is None
    with pytest.raises(ValueError):
        majority_vote([])


def test_parse_score():
    assert parse_score("Score: 7") == 7.0
    assert parse_score("I'd say 8/10") == 8.0
    assert parse_score("4 out of 5 stars, Score: 9") == 9.0
    assert parse_score("3/5") == 6.0
    assert parse_score("Score: 42") is None
    assert parse_score("great") is None


def test_parse_preference():
    assert parse_preference("A") == "A"
    assert parse_preference("(B) is better") == "B"
    assert parse_preference("Answer B is more accurate.") == "B"
    assert parse_preference("It's a tie") == "tie"
    assert parse_preference("Both A and B are fine") == "tie"
    assert parse_preference("A is good, but B is better") is None
    assert parse_preference("hmm") is None


def test_parse_index_pass_fail_agreement():
    assert parse_index("Attempt 2", 3) == 1
    assert parse_index("7 or 3", 3) == 2
    assert parse_index("none", 3) is None
    assert parse_pass_fail("PASS") == (True, "")
    assert parse_pass_fail("FAIL: too long") == (False, "too long")
    assert parse_pass_fail("maybe") is None
    assert parse_agreement("I AGREE.") and not parse_agreement("I disagree")
