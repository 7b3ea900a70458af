"""One answer extractor for scorers and strategies: what is voted on is what is graded."""

from __future__ import annotations

import pytest

from forgekit.core.answers import extract_choice, extract_number
from forgekit.core.samples import Answer, Sample
from forgekit.evals.text_scorers import choice, numeric
from forgekit.quality.normalize import normalize_answer


@pytest.mark.parametrize("text,expected", [
    ("x = 3/4", "0.75"),  # a fraction is its value, not its last digit
    ("The answer is $1,250.", "1250"),
    ("answer: 12, because 3*4", "12"),
    ("**Answer: 7**", "7"),
    ("first 3 then 7", "7"),
    ("no number", None),
])
def test_numbers(text, expected):
    assert extract_number(text)[0] == expected


@pytest.mark.parametrize("text,expected", [
    ("I think A is wrong, so B", "B"),  # the conclusion, not the first letter named
    ("Answer: C", "C"),
    ("(b) Paris", "B"),
    ("It is Oslo", "C"),
    ("Rome or Paris", None),
    ("", None),
])
def test_choices(text, expected):
    assert extract_choice(text, ["Rome", "Paris", "Oslo"])[0] == expected


@pytest.mark.parametrize("text", ["x = 3/4", "I think A is wrong, so B", "#### 1,000",
                                  "(c) because", "maybe 2 or 5"])
def test_the_vote_key_and_the_graded_answer_agree(text):
    choices = ["Rome", "Paris", "Oslo"]
    letter = normalize_answer(text, "choice", choices)
    graded = choice(Sample(id="s", input="q", choices=choices, target=letter or "A"),
                    Answer(text=text))
    assert graded.answer == letter
    number = normalize_answer(text, "number")
    scored = numeric(Sample(id="s", input="q", target=number or "0"), Answer(text=text))
    assert (scored.value == 1.0) == (number is not None)
