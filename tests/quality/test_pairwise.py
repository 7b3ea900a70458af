"""Pairwise tournament on a scripted judge: position swap, ties, identical candidates."""

from __future__ import annotations

import asyncio
import re

from forgekit.quality import Direct, Pairwise
from tests.scripted import last_user

ANSWERS = {0: "bad one", 1: "good answer", 2: "meh", 3: "also bad"}


def fn_with(judge):
    def fn(request):
        text = last_user(request)
        if text.startswith("Which answer"):
            a = re.search(r"Answer A:\n(.*)\n\nAnswer B", text).group(1)
            b = re.search(r"Answer B:\n(.*)\n\nReply", text).group(1)
            return judge(a, b)
        return ANSWERS[request.params["seed"]]

    return fn


def run(h, sample, **kw):
    solver = Pairwise(Direct("{input}"), judge_model="judge", **kw)
    return asyncio.run(solver.solve(sample, h.ctx(sample)))


def test_consistent_judge_picks_the_good_answer_in_both_orders(harness, sample):
    h = harness(fn_with(lambda a, b: "A" if "good" in a else "B" if "good" in b else "tie"))
    answer = run(h, sample, n=4)
    assert answer.text == "good answer" and answer.metadata["chosen"] == 1
    first = answer.metadata["matches"][0]
    assert first["orders"] == ["B", "A"]  # good shown second, then first: same winner
    assert first["consistent"] is True and first["verdict"] == "y" and first["winner"] == 1
    judged = [r for r in h.requests if r.alias == "judge"]
    assert len(judged) == 2 * 3  # 3 matches, both orders
    assert all(r.params["temperature"] == 0.0 for r in judged)
    assert len({r.call_key["attempt"] for r in h.requests}) == len(h.requests)
    assert [c["wins"] for c in answer.metadata["candidates"]] == [0, 2, 1, 0]  # 2 beat 3 on a tie


def test_position_biased_judge_gives_ties_and_the_lower_index_wins(harness, sample):
    h = harness(fn_with(lambda a, b: "A"))  # always prefers whatever is shown first
    answer = run(h, sample, n=4)
    assert all(not m["consistent"] and m["verdict"] == "tie" for m in answer.metadata["matches"])
    assert answer.metadata["chosen"] == 0


def test_single_order_trusts_the_judge(harness, sample):
    h = harness(fn_with(lambda a, b: "B"))
    answer = run(h, sample, n=2, both_orders=False)
    assert answer.metadata["chosen"] == 1
    assert len([r for r in h.requests if r.alias == "judge"]) == 1


def test_unreadable_verdicts_are_ties_with_a_note(harness, sample):
    h = harness(fn_with(lambda a, b: "Hmm, hard to say."))
    answer = run(h, sample, n=2)
    assert answer.metadata["chosen"] == 0
    assert answer.metadata["matches"][0]["verdict"] == "tie"
    assert len([n for n in h.notes("fallback") if n["purpose"] == "pairwise_judge"]) == 2


def test_identical_candidates_need_no_judge(harness, sample):
    h = harness(lambda r: "Same." if r.params.get("seed") is not None else "A")
    answer = run(h, sample, n=3)
    assert not [r for r in h.requests if r.alias == "judge"]
    assert all(m["verdict"] == "identical" for m in answer.metadata["matches"])
    assert answer.metadata["chosen"] == 0


def test_odd_field_gets_a_bye(harness, sample):
    h = harness(fn_with(lambda a, b: "A" if "meh" in a else "B" if "meh" in b else "tie"))
    answer = run(h, sample, n=3)
    assert answer.text == "meh"
    assert [m["round"] for m in answer.metadata["matches"]] == [1, 2]
