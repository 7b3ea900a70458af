"""Every strategy stops spending when the budget refuses a call and returns its best so
far with the reason recorded; a nested strategy's budget stop reaches its parent."""

from __future__ import annotations

import asyncio

import pytest

from forgekit.core.errors import BudgetExceeded
from forgekit.models import Budget
from forgekit.quality import BestOfN, Debate, Direct, Guardrail, Pairwise, ReviewerRetry


def refuse_after(n_ok: int):
    state = {"n": 0}

    def fn(request):
        state["n"] += 1
        if state["n"] > n_ok:
            raise BudgetExceeded("budget spent")
        return f"answer {state['n']}"

    return fn


STRATEGIES = {
    "best_of_n": lambda: BestOfN(Direct(), n=4),
    "pairwise": lambda: Pairwise(Direct(), n=4),
    "reviewer": lambda: ReviewerRetry(Direct(), k=4, threshold=None),
    "guardrail": lambda: Guardrail(Direct(), validator=lambda a, s: False, max_attempts=4),
    "debate": lambda: Debate(Direct(), rounds=3, stop_on_agree=False),
}


@pytest.mark.parametrize("kind", list(STRATEGIES))
def test_budget_refusal_returns_best_so_far(kind, harness, sample):
    h = harness(refuse_after(2))
    answer = asyncio.run(STRATEGIES[kind]().solve(sample, h.ctx(sample)))
    assert answer.stop_reason == "budget"
    assert answer.metadata["stop_reason"] == "budget"
    assert answer.text.startswith("answer")  # best so far, not nothing
    assert len(h.requests) == 3  # two answered, one refused, then no more asking
    assert h.notes("stop")[0]["reason"] == "budget"


def test_nothing_done_before_the_budget_ran_out(harness, sample):
    h = harness(refuse_after(0))
    answer = asyncio.run(BestOfN(Direct(), n=3).solve(sample, h.ctx(sample)))
    assert answer.text == "" and answer.stop_reason == "budget"
    assert answer.metadata["chosen"] is None


def test_exhausted_budget_means_no_call_at_all(harness, sample):
    h = harness(lambda r: "5")
    budget = Budget(max_tokens=10)
    budget.settle(None, 0.0, 10)
    answer = asyncio.run(ReviewerRetry(Direct(), k=3).solve(sample, h.ctx(sample, budget=budget)))
    assert h.requests == [] and answer.stop_reason == "budget"


def test_nested_budget_stop_reaches_the_outer_strategy(harness, sample):
    h = harness(refuse_after(3))
    solver = BestOfN(ReviewerRetry(Direct(), k=2, mode="check", check=lambda a, s: False), n=3)
    answer = asyncio.run(solver.solve(sample, h.ctx(sample)))
    assert answer.stop_reason == "budget"
    assert len(answer.metadata["candidates"]) == 2  # the third outer candidate never started
    assert len(h.requests) == 4
