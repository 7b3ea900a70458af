"""Adaptive concurrency (AIMD): grows on success, halves once per window on overload,
stays within floor and ceiling; through the gateway a 429 burst never fails a call."""

from __future__ import annotations

import asyncio

import pytest

from forgekit.core.config import Price
from forgekit.models import Gateway
from forgekit.models.concurrency import AdaptiveLimit
from forgekit.models.stub_server import Fault


def test_additive_increase_multiplicative_decrease_once_per_window():
    lim = AdaptiveLimit(4, floor=2, ceiling=6)
    for _ in range(5):  # about one window of successes: +1
        lim.success(0.0)
    assert lim.current == 5
    for _ in range(50):
        lim.success(0.0)
    assert lim.current == 6 == lim.high  # the ceiling holds
    started_before = -1.0
    assert lim.overload(0.0) and lim.current == 3
    # calls that started before the cut do not cut again (one burst, one cut)
    assert not lim.overload(started_before) and lim.current == 3
    import time

    assert lim.overload(time.monotonic()) and lim.current == 2  # the floor holds
    assert lim.overload(time.monotonic() + 1) and lim.current == 2
    snap = lim.snapshot()
    assert (snap["start"], snap["low"], snap["high"], snap["cuts"]) == (4, 2, 6, 3)


def test_the_limit_bounds_calls_in_flight_and_cancelled_waiters_leave():
    async def run() -> tuple[int, int]:
        lim = AdaptiveLimit(3, ceiling=3)
        peak = 0

        async def one() -> None:
            nonlocal peak
            await lim.acquire()
            try:
                peak = max(peak, lim.in_flight)
                await asyncio.sleep(0.01)
            finally:
                lim.release()

        waiter = asyncio.ensure_future(asyncio.gather(*(one() for _ in range(3))))
        await asyncio.sleep(0)
        late = asyncio.ensure_future(one())
        await asyncio.sleep(0)
        late.cancel()
        await asyncio.gather(*(one() for _ in range(12)))
        await waiter
        return peak, lim.in_flight

    assert asyncio.run(run()) == (3, 0)


def test_a_429_burst_shrinks_the_limit_and_fails_no_call(stub, config_for, fast_retry):
    free = Price(input_per_1k=0, output_per_1k=0)  # priced: no litellm price lookup
    cfg = config_for(concurrency=8, max_concurrency=16, max_retries=5, price=free)
    gw = Gateway(cfg, retry=fast_retry, cache=False)
    stub.script([Fault.status(429, retry_after=0.05)] * 8 + [Fault.status(503)] * 2)

    async def run() -> list[str]:
        return [
            r.text for r in await asyncio.gather(*(gw.acomplete(f"q{i}") for i in range(40)))
        ]

    texts = asyncio.run(run())
    assert texts == [f"stub: q{i}" for i in range(40)]
    snap = gw.concurrency()["stub"]
    assert snap["start"] == 8 and 1 <= snap["cuts"] <= 3 and snap["low"] <= 4
    assert stub.count == 50


@pytest.mark.parametrize("ceiling,start", [(16, 4), (3, 1)])
def test_the_start_defaults_to_a_quarter_of_the_ceiling(config_for, ceiling, start):
    free = Price(input_per_1k=0, output_per_1k=0)
    gw = Gateway(config_for(max_concurrency=ceiling, price=free), cache=False)
    assert gw.complete("hi").text == "stub: hi"
    assert gw.concurrency()["stub"]["start"] == start
