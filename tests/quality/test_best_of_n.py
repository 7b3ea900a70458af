"""Best-of-N and ask-colleagues on a scripted model: votes, ties, child runs, cost."""

from __future__ import annotations

import asyncio

import pytest

from forgekit.core.errors import BudgetExceeded, ModelError
from forgekit.core.samples import Sample
from forgekit.models import Budget
from forgekit.quality import AskColleagues, BestOfN, Direct
from tests.scripted import last_user


def by_seed(answers: dict[int, str]):
    """Candidates answer by the seed the strategy gave them."""

    def fn(request):
        return answers[request.params["seed"]]

    return fn


def solve(strategy, h, sample, **kw):
    return asyncio.run(strategy.solve(sample, h.ctx(sample, **kw)))


def test_majority_vote_normalises_numbers(harness, sample):
    h = harness(by_seed({0: "The answer is 5.", 1: "4", 2: "5.0", 3: "#### 5", 4: "4"}))
    answer = solve(BestOfN(Direct("{input}"), n=5), h, sample)
    assert answer.metadata["votes"] == {"5": 3, "4": 2}
    assert answer.metadata["normalize"] == "number"
    assert answer.text == "The answer is 5."  # the first candidate holding the winner
    assert answer.metadata["chosen"] == 0


def test_tie_goes_to_the_earliest_key(harness, sample):
    h = harness(by_seed({0: "7", 1: "5", 2: "5", 3: "7"}))
    answer = solve(BestOfN(Direct("{input}"), n=4), h, sample)
    assert answer.metadata["tied"] == ["7", "5"]
    assert answer.metadata["winner_key"] == "7"
    assert answer.metadata["chosen"] == 0
    vote = h.notes("vote")[0]
    assert vote["counts"] == {"7": 2, "5": 2} and vote["winner"] == "7"


def test_unusable_answers_do_not_vote(harness, sample):
    h = harness(by_seed({0: "no idea", 1: "I think 3", 2: "3"}))
    answer = solve(BestOfN(Direct("{input}"), n=3, normalize="number"), h, sample)
    assert answer.metadata["votes"] == {"3": 2}
    assert answer.metadata["chosen"] == 1


def test_choices_vote_by_letter(harness):
    s = Sample(id="mc", input="Capital of France?", choices=["Rome", "Paris", "Oslo"])
    h = harness(by_seed({0: "B", 1: "The answer is Paris", 2: "(A)"}))
    answer = solve(BestOfN(Direct("{input}\n{choices}"), n=3), h, s)
    assert answer.metadata["normalize"] == "choice"
    assert answer.metadata["votes"] == {"B": 2, "A": 1}
    assert "A. Rome" in last_user(h.requests[0])


def test_candidates_are_child_runs_with_distinct_attempts(harness, sample):
    h = harness(by_seed({0: "5", 1: "5", 2: "6"}))
    answer = solve(BestOfN(Direct("{input}", max_tokens=10), n=3, temperature=0.9), h, sample)
    attempts = [r.call_key["attempt"] for r in h.requests]
    assert len(set(attempts)) == 3
    assert all(r.params["temperature"] == 0.9 for r in h.requests)
    assert [r.params["seed"] for r in h.requests] == [0, 1, 2]
    assert len(h.sink.children) == 3
    for child in h.sink.children:
        start, end = child.events[0], child.events[-1]
        assert start.type == "run_start" and start.solver == "best_of_n/candidate"
        assert start.parent_run_id == h.sink.run_id
        assert end.type == "run_end" and end.status == "completed" and end.model_calls == 1
        assert any(e.type == "model_call" for e in child.events)
    # own calls and cost are reported
    assert answer.metadata["calls"] == 3
    assert answer.cost_usd == pytest.approx(
        sum(e.cost_usd for c in h.sink.children for e in c.events if e.type == "model_call")
    )
    assert answer.cost_usd > 0
    assert [c["run_id"] for c in answer.metadata["candidates"]] == [
        c.run_id for c in h.sink.children
    ]
    assert h.notes("choice")[0]["chosen"] == 0


def test_synthesis_writes_the_final_answer(harness, sample):
    def fn(request):
        if "Candidate answers" in last_user(request):
            assert "1. 4" in last_user(request) and "2. 5" in last_user(request)
            return "5"
        return {0: "4", 1: "5"}[request.params["seed"]]

    h = harness(fn)
    answer = solve(
        BestOfN(Direct("{input}"), n=2, aggregate="synthesis", synthesis_model="judge"), h, sample
    )
    assert answer.text == "5" and answer.metadata["aggregate"] == "synthesis"
    assert h.requests[-1].alias == "judge"
    assert answer.metadata["judge_calls"] == 1 and answer.metadata["calls"] == 3


def test_failed_synthesis_falls_back_to_the_vote(harness, sample):
    def fn(request):
        if "Candidate answers" in last_user(request):
            raise ValueError("judge down")
        return {0: "4", 1: "5", 2: "5"}[request.params["seed"]]

    h = harness(fn)
    answer = solve(BestOfN(Direct("{input}"), n=3, aggregate="synthesis"), h, sample)
    assert answer.text == "5" and answer.metadata["aggregate"] == "vote"
    assert any(n["purpose"] == "synthesis" for n in h.notes("fallback"))


def test_ask_colleagues_asks_each_model(harness, sample):
    h = harness(
        lambda r: {"scripted/m": "5", "scripted/other": "6", "scripted/judge": "6"}[r.model]
    )
    solver = AskColleagues(Direct("{input}"), models=["m", "other", "judge"])
    answer = solve(solver, h, sample)
    assert [r.alias for r in h.requests] == ["m", "other", "judge"]
    assert answer.text == "6" and answer.metadata["votes"] == {"5": 1, "6": 2}
    assert "temperature" not in h.requests[0].params
    assert [c["model"] for c in answer.metadata["candidates"]] == ["m", "other", "judge"]


def test_budget_runs_out_mid_strategy(harness, sample):
    h = harness(lambda r: "5")
    # each call reserves ~4 prompt + 50 max tokens and uses 5: the third is refused
    budget = Budget(max_tokens=60)
    answer = solve(BestOfN(Direct("{input}", max_tokens=50), n=5), h, sample, budget=budget)
    done = [c for c in answer.metadata["candidates"] if c["status"] == "completed"]
    assert len(done) == 2
    assert answer.stop_reason == "budget" and answer.metadata["stop_reason"] == "budget"
    assert answer.text == "5"
    assert budget.spent_tokens <= 60
    assert h.notes("stop")[0]["reason"] == "budget"
    assert len(h.requests) == len(done)  # no call went out after the refusal


def test_budget_refusal_from_the_source(harness, sample):
    calls = {"n": 0}

    def fn(request):
        calls["n"] += 1
        if calls["n"] == 3:
            raise BudgetExceeded("out of money")
        return "5"

    h = harness(fn)
    answer = solve(BestOfN(Direct("{input}"), n=5), h, sample)
    statuses = [c["status"] for c in answer.metadata["candidates"]]
    assert statuses == ["completed", "completed", "budget-exceeded"]
    assert answer.stop_reason == "budget"
    assert h.sink.children[2].events[-1].status == "budget-exceeded"


def test_every_candidate_failing_is_an_error(harness, sample):
    def fn(request):
        raise ValueError("broken")

    h = harness(fn)
    with pytest.raises(ModelError, match="no candidate succeeded"):
        solve(BestOfN(Direct("{input}"), n=2), h, sample)


def test_concurrent_candidates_keep_their_order(harness, sample):
    h = harness(by_seed({0: "1", 1: "2", 2: "2", 3: "1"}))
    answer = solve(BestOfN(Direct("{input}"), n=4, concurrency=4), h, sample)
    assert [c["text"] for c in answer.metadata["candidates"]] == ["1", "2", "2", "1"]
    assert answer.metadata["winner_key"] == "1"
