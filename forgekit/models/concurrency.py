"""Adaptive concurrency (AIMD) per model alias: how many calls may be in flight at once.

An alias with a `max_concurrency` starts at its `concurrency` (default: a quarter of the
ceiling), grows by one call per window of successes (additive increase), and halves on
an overload signal — HTTP 429, 503 or 529, or any Retry-After — at most once per window:
only a call that started after the last cut can cut again (TCP's rule), so a burst of
64 429s is one cut, not 64. The limit stays between `min_concurrency` and the ceiling.
The gateway retries the overloaded call itself (a 429 never fails a sample) and sleeps
outside the limit, so a Retry-After never blocks other calls or the event loop.

Example:
    >>> limit = AdaptiveLimit(8, floor=1, ceiling=64)
    >>> limit.success(0.0); round(limit.limit, 3)
    8.125
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

OVERLOAD_STATUS = frozenset({429, 503, 529})


class AdaptiveLimit:
    """An async limiter whose limit follows additive-increase/multiplicative-decrease.

    Args:
        start: the first limit.
        floor: the lowest limit (never below 1).
        ceiling: the highest limit.
        backoff: the factor applied on an overload signal.
    """

    def __init__(
        self, start: int, *, floor: int = 1, ceiling: int = 256, backoff: float = 0.5
    ) -> None:
        self.floor = max(1, floor)
        self.ceiling = max(self.floor, ceiling)
        self.limit = float(min(max(start, self.floor), self.ceiling))
        self.backoff = backoff
        self.in_flight = 0
        self.start = int(self.limit)
        self.low = self.high = int(self.limit)
        self.cuts = 0
        self._last_cut = float("-inf")
        self._waiters: deque[asyncio.Future] = deque()

    @property
    def current(self) -> int:
        """The limit in whole calls."""
        return int(self.limit)

    async def acquire(self) -> float:
        """Wait for a slot; returns the call's start time (give it to `overload`)."""
        if self.in_flight < self.current and not self._waiters:
            self.in_flight += 1
            return time.monotonic()
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # we were handed a slot we will not use
            else:
                self._waiters.remove(fut)
            raise
        return time.monotonic()

    def release(self) -> None:
        """Give a slot back and hand free slots to waiters."""
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.current:
            fut = self._waiters.popleft()
            if not fut.done():
                self.in_flight += 1
                fut.set_result(None)

    def success(self, started: float) -> None:
        """A call went through: grow by 1/limit (one call per full window)."""
        if self.limit < self.ceiling:
            self.limit = min(float(self.ceiling), self.limit + 1.0 / self.limit)
            self.high = max(self.high, self.current)
            self._wake()

    def overload(self, started: float) -> bool:
        """The server said slow down: cut the limit, once per window. True if it cut."""
        if started <= self._last_cut:
            return False
        self._last_cut = time.monotonic()
        self.limit = max(float(self.floor), self.limit * self.backoff)
        self.low = min(self.low, self.current)
        self.cuts += 1
        return True

    def snapshot(self) -> dict[str, Any]:
        """What an eval records: start, current, lowest and highest limit, cuts."""
        return {
            "start": self.start,
            "current": self.current,
            "low": self.low,
            "high": self.high,
            "cuts": self.cuts,
            "floor": self.floor,
            "ceiling": self.ceiling,
        }
