"""Budgets: refusal before sending, actual spend after, overspend at most one call."""

from __future__ import annotations

import asyncio

import pytest

from forgekit.core.config import Price
from forgekit.core.errors import BudgetExceeded
from forgekit.models import Budget, Gateway
from tests.scripted import scripted_gateway


def scripted(tmp_path, *replies, delay_s: float = 0.0) -> Gateway:
    """A gateway whose default alias `s` (no default params) answers from a script."""
    gw, _ = scripted_gateway(
        list(replies), aliases=("s",), root=tmp_path, cycle=True, delay_s=delay_s,
        cache=True, price=None,
    )
    return gw


def test_reserve_settle_and_remaining():
    b = Budget(max_usd=1.0, max_tokens=100)
    r = b.reserve(0.5, 60)
    with pytest.raises(BudgetExceeded, match="in flight"):
        b.reserve(0.1, 50)  # 60 held + 50 > 100
    b.settle(r, 0.25, 30)
    assert (b.spent_usd, b.spent_tokens) == (0.25, 30)
    assert b.remaining == {"usd": 0.75, "tokens": 70}
    b.release(b.reserve(0.1, 10))
    assert b.spent_tokens == 30 and b.refused == 1
    with pytest.raises(ValueError):
        Budget(max_usd=-1)


def test_budget_refuses_before_sending_over_http(stub, config_for, fast_retry):
    # a price that makes each call cost a known amount: 1 USD per 1k tokens both ways
    cfg = config_for(price=Price(input_per_1k=1.0, output_per_1k=1.0))
    gw = Gateway(cfg, retry=fast_retry, cache=False)
    budget = Budget(max_usd=0.05)
    spent = []
    with pytest.raises(BudgetExceeded) as info:
        for _ in range(100):
            r = gw.complete("one two three four", budget=budget, max_tokens=5)
            spent.append(r.cost_usd)
    sent = stub.count
    assert sent == len(spent) >= 1
    assert all(c > 0 for c in spent)
    assert budget.spent_usd == pytest.approx(sum(spent))
    assert budget.spent_usd <= 0.05  # estimate (prompt + max_tokens) covers actual use
    assert "max_usd" in str(info.value) and info.value.spent_usd == budget.spent_usd
    with pytest.raises(BudgetExceeded):
        gw.complete("one two three four", budget=budget, max_tokens=5)
    assert stub.count == sent  # refused calls never reach the server


def test_without_max_tokens_overspend_is_at_most_one_call(tmp_path):
    # no max_tokens: the first call's estimate is the prompt only, later ones add the
    # longest reply seen; each reply uses 30+ tokens
    gw = scripted(tmp_path, "word " * 30)
    budget = Budget(max_tokens=200)
    used = []
    with pytest.raises(BudgetExceeded):
        for _ in range(40):
            used.append(gw.complete("a b c d", budget=budget).usage.total_tokens)
    per_call = max(used)
    assert budget.spent_tokens == sum(used)
    assert 200 - per_call < budget.spent_tokens <= 200 + per_call


def test_without_max_tokens_concurrent_calls_reserve_the_longest_reply_seen(tmp_path):
    # the first reply teaches the gateway how long this alias answers; calls sent together
    # afterwards each reserve that much, so they cannot jointly run far past the limit
    gw = scripted(tmp_path, "word " * 30, delay_s=0.005)
    budget = Budget(max_tokens=300)
    first = gw.complete("a b c d", budget=budget).usage.total_tokens

    async def run() -> list:
        calls = [gw.acomplete("a b c d", budget=budget) for _ in range(60)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(run())
    admitted = [r for r in results if not isinstance(r, BudgetExceeded)]
    # (the cheap prompt estimate may be a little short; the reply part is reserved whole)
    assert len(admitted) <= 300 // first and budget.spent_tokens <= 300 + first
    assert budget.spent_tokens == first * (1 + len(admitted))


def test_budget_with_max_tokens_is_never_exceeded_under_concurrency(tmp_path):
    # with max_tokens set, the estimate bounds the actual use, and estimates of calls in
    # flight are reserved, so concurrency cannot push the total over the limit
    gw = scripted(tmp_path, "x " * 8, delay_s=0.005)
    budget = Budget(max_tokens=300)

    async def run() -> list:
        calls = [gw.acomplete("a b c d", budget=budget, max_tokens=10) for _ in range(60)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(run())
    assert any(isinstance(r, BudgetExceeded) for r in results)
    assert 0 < budget.spent_tokens <= 300


def test_cache_hits_cost_nothing_against_the_budget(stub, config_for, fast_retry):
    cfg = config_for(price=Price(input_per_1k=1.0, output_per_1k=1.0))
    gw = Gateway(cfg, retry=fast_retry, cache=True)
    budget = Budget(max_usd=1.0)
    first = gw.complete("same prompt", budget=budget, max_tokens=5)
    spent = budget.spent_usd
    second = gw.complete("same prompt", budget=budget, max_tokens=5)
    # recorded with what producing it cost, but nothing is spent again
    assert second.cached and second.cost_usd == first.cost_usd > 0
    assert budget.spent_usd == spent and stub.count == 1


def test_a_call_blocked_only_by_calls_in_flight_waits_for_them():
    async def main():
        b = Budget(max_usd=1.0)
        held = b.reserve(0.6, 0)
        waiting = asyncio.create_task(b.areserve(0.5, 0))
        for _ in range(3):
            await asyncio.sleep(0)  # let it run up to its wait
        assert not waiting.done() and b.waits == 1
        b.settle(held, 0.3, 0)  # spent 0.3: the 0.5 now fits
        r = await asyncio.wait_for(waiting, 5)
        assert r.usd == 0.5 and b.refused == 0
        # what is actually spent plus the call is over: refused at once, no wait
        with pytest.raises(BudgetExceeded):
            await b.areserve(0.8, 0)
        assert b.refused == 1

    asyncio.run(main())
