"""Retry + reviewer: score mode with averaged judge samples, early exit, chooser, check."""

from __future__ import annotations

import asyncio

from forgekit.quality import Direct, ReviewerRetry
from tests.scripted import last_user


def attempts_and_scores(answers, scores):
    """Attempt i answers answers[i]; the judge scores an answer by `scores[answer]`,
    a list consumed sample by sample."""
    state = {"i": 0, "scores": {k: list(v) for k, v in scores.items()}}

    def fn(request):
        text = last_user(request)
        if text.startswith("Rate the answer"):
            answer = text.split("Answer:\n", 1)[1].split("\n\nReply", 1)[0]
            return state["scores"][answer].pop(0)
        if text.startswith("Several attempts"):
            return scores["__chooser__"][0]
        out = answers[state["i"]]
        state["i"] += 1
        return out

    return fn


def run(h, sample, **kw):
    solver = ReviewerRetry(Direct("{input}"), judge_model="judge", **kw)
    return asyncio.run(solver.solve(sample, h.ctx(sample)))


def test_early_exit_when_an_attempt_reaches_the_threshold(harness, sample):
    h = harness(attempts_and_scores(["4", "5", "6"], {"4": ["Score: 3"], "5": ["9/10"]}))
    answer = run(h, sample, k=3, threshold=8)
    assert answer.text == "5" and answer.metadata["early_exit"] is True
    assert len(answer.metadata["candidates"]) == 2  # the third attempt never ran
    assert [c["score"] for c in answer.metadata["candidates"]] == [3.0, 9.0]
    assert h.notes("early_exit")[0]["index"] == 1


def test_scores_are_averaged_over_judge_samples_and_best_wins(harness, sample):
    h = harness(
        attempts_and_scores(["4", "5"], {"4": ["6", "7", "garbage"], "5": ["5", "Score: 4", "6"]})
    )
    answer = run(h, sample, k=2, threshold=None, judge_samples=3, judge_temperature=0.5)
    cands = answer.metadata["candidates"]
    assert cands[0]["score"] == 6.5 and cands[0]["score_samples"] == [6.0, 7.0]
    assert cands[1]["score"] == 5.0
    assert answer.text == "4" and answer.metadata["early_exit"] is False
    assert any(n["purpose"] == "reviewer_score" for n in h.notes("fallback"))
    judge_calls = [r for r in h.requests if r.alias == "judge"]
    assert len(judge_calls) == 6
    assert len({r.call_key["attempt"] for r in judge_calls}) == 6  # samples differ in cache
    assert {r.params["seed"] for r in judge_calls} == {1000, 1001, 1002}
    assert answer.metadata["judge_calls"] == 6 and answer.metadata["calls"] == 8


def test_attempts_are_fresh_child_runs(harness, sample):
    h = harness(attempts_and_scores(["1", "2"], {"1": ["0"], "2": ["0"]}))
    run(h, sample, k=2)
    assert [c.events[0].solver for c in h.sink.children] == ["reviewer/attempt"] * 2
    prompts = [last_user(r) for r in h.requests if r.alias == "m"]
    assert prompts == ["What is 2 + 3?"] * 2  # no state leaks from one attempt to the next


def test_chooser_mode_picks_by_number(harness, sample):
    h = harness(attempts_and_scores(["4", "5", "6"], {"__chooser__": ["Attempt 2 is best"]}))
    answer = run(h, sample, k=3, mode="chooser")
    assert answer.text == "5" and answer.metadata["chosen"] == 1


def test_unreadable_chooser_falls_back_to_the_first(harness, sample):
    h = harness(attempts_and_scores(["4", "5"], {"__chooser__": ["they are all fine"]}))
    answer = run(h, sample, k=2, mode="chooser")
    assert answer.text == "4"
    assert h.notes("fallback")[0]["purpose"] == "chooser"


def test_check_function_ends_the_run(harness, sample):
    h = harness(attempts_and_scores(["4", "5", "6"], {}))
    seen = []

    async def unit_tests_pass(answer, s):
        seen.append(answer.text)
        return answer.text.strip() == s.target

    answer = run(h, sample, k=3, mode="check", check=unit_tests_pass)
    assert answer.text == "5" and seen == ["4", "5"]
    assert not [r for r in h.requests if r.alias == "judge"]
    assert h.notes("early_exit")[0]["reason"] == "check passed"
    assert (
        ReviewerRetry(Direct(), check=unit_tests_pass).config()["check"].endswith("unit_tests_pass")
    )
