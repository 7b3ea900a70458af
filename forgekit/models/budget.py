"""Budgets: a spending limit in USD and/or tokens that a run carries through its calls.

A call is refused *before* it is sent when its estimate (prompt tokens plus `max_tokens`,
priced) would take the budget past its limit; actual spend is recorded after the call.
Estimates of calls still in flight are reserved, so concurrent calls cannot jointly
overshoot: the only overspend possible is a call's actual use exceeding its estimate
(without `max_tokens`, the gateway estimates the reply as the longest one it has seen
from that alias). A call that does not fit only because of what others hold in flight
waits for them to settle (`areserve`); it is refused only when what is actually spent
plus its own estimate is over the limit.

Example:
    >>> from forgekit.models import Budget
    >>> b = Budget(max_usd=0.50, max_tokens=20_000)
    >>> b.remaining
    {'usd': 0.5, 'tokens': 20000}
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from forgekit.core.errors import BudgetExceeded


@dataclass(frozen=True)
class Reservation:
    """The estimate held for one call in flight."""

    usd: float
    tokens: int


class Budget:
    """A USD and/or token limit; thread- and asyncio-safe (a lock, never held across I/O)."""

    def __init__(self, max_usd: float | None = None, max_tokens: int | None = None) -> None:
        if max_usd is not None and max_usd < 0:
            raise ValueError("max_usd must be >= 0")
        if max_tokens is not None and max_tokens < 0:
            raise ValueError("max_tokens must be >= 0")
        self.max_usd = max_usd
        self.max_tokens = max_tokens
        self._spent_usd = 0.0
        self._spent_tokens = 0
        self._held_usd = 0.0
        self._held_tokens = 0
        self.calls = 0
        self.refused = 0
        self.waits = 0
        self._lock = threading.Lock()
        # calls waiting for in-flight reservations to settle: (loop, future)
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []

    @property
    def spent_usd(self) -> float:
        return self._spent_usd

    @property
    def spent_tokens(self) -> int:
        return self._spent_tokens

    @property
    def remaining(self) -> dict[str, float | int | None]:
        """What is left of each limit (None where there is no limit)."""
        return {
            "usd": None if self.max_usd is None else max(0.0, self.max_usd - self._spent_usd),
            "tokens": None
            if self.max_tokens is None
            else max(0, self.max_tokens - self._spent_tokens),
        }

    @property
    def exhausted(self) -> bool:
        return (self.max_usd is not None and self._spent_usd >= self.max_usd) or (
            self.max_tokens is not None and self._spent_tokens >= self.max_tokens
        )

    def fits(self, est_usd: float, est_tokens: int, *, in_flight: bool = True) -> bool:
        """Whether a call of this estimate fits now (`in_flight`: counting what calls in
        flight hold; else only what is actually spent)."""
        with self._lock:
            return self._over(est_usd, est_tokens, in_flight=in_flight) is None

    async def areserve(self, est_usd: float, est_tokens: int, *, what: str = "call"
                       ) -> Reservation:
        """Like `reserve`, but a call that does not fit only because of what calls in
        flight hold waits for them to settle instead of being refused."""
        while True:
            with self._lock:
                est_usd, est_tokens = self._floor(est_usd, est_tokens)
                busy = self._held_usd > 0 or self._held_tokens > 0
                waiting = busy and (
                    self._first_alone()
                    or (
                        self._over(est_usd, est_tokens, in_flight=True) is not None
                        and self._over(est_usd, est_tokens, in_flight=False) is None
                    )
                )
                if not waiting:
                    return self._reserve_locked(est_usd, est_tokens, what)
                loop = asyncio.get_running_loop()
                fut = loop.create_future()
                self._waiters.append((loop, fut))
                self.waits += 1
            await self._wait(fut)

    async def _wait(self, fut: asyncio.Future) -> None:
        """Wait until a settle or release may have made room (subclasses shared with
        other processes poll)."""
        await fut

    def _floor(self, est_usd: float, est_tokens: int) -> tuple[float, int]:
        """The estimate a call is held at (subclasses may raise it; lock held)."""
        return est_usd, est_tokens

    def _first_alone(self) -> bool:
        """Whether calls must wait while one is in flight (subclasses; lock held)."""
        return False

    def _over(self, est_usd: float, est_tokens: int, *, in_flight: bool) -> str | None:
        """Which limit a call of this estimate would pass (None: it fits). Lock held."""
        held_t, held_u = (self._held_tokens, self._held_usd) if in_flight else (0, 0.0)
        if self.max_tokens is not None and (
            self._spent_tokens + held_t + est_tokens > self.max_tokens
        ):
            return "tokens"
        if self.max_usd is not None and (
            (self._spent_usd > 0 and self._spent_usd >= self.max_usd)
            or self._spent_usd + held_u + est_usd > self.max_usd
        ):
            return "usd"
        return None

    def _wake(self) -> None:
        """Wake every waiting call (lock held): each tries again."""
        waiters, self._waiters = self._waiters, []
        for loop, fut in waiters:
            def _set(f: asyncio.Future = fut) -> None:
                if not f.done():
                    f.set_result(None)

            try:
                loop.call_soon_threadsafe(_set)
            except RuntimeError:  # that loop is closed: nobody is waiting any more
                pass

    def reserve(self, est_usd: float, est_tokens: int, *, what: str = "call") -> Reservation:
        """Hold an estimate for a call about to be sent, or raise BudgetExceeded."""
        with self._lock:
            return self._reserve_locked(est_usd, est_tokens, what)

    def _reserve_locked(self, est_usd: float, est_tokens: int, what: str) -> Reservation:
        """The check and hold of `reserve` (the lock is held)."""
        if self.max_tokens is not None:
            need = self._spent_tokens + self._held_tokens + est_tokens
            if need > self.max_tokens:
                self.refused += 1
                raise BudgetExceeded(
                    f"{what} refused: it may use ~{est_tokens} tokens, and "
                    f"{self._spent_tokens} spent + {self._held_tokens} in flight of "
                    f"max_tokens={self.max_tokens} leaves too little. Raise the budget "
                    f"or lower max_tokens.",
                    spent_usd=self._spent_usd,
                    spent_tokens=self._spent_tokens,
                )
        if self.max_usd is not None:
            need_usd = self._spent_usd + self._held_usd + est_usd
            spent_all = self._spent_usd > 0 and self._spent_usd >= self.max_usd
            if need_usd > self.max_usd or spent_all:
                self.refused += 1
                raise BudgetExceeded(
                    f"{what} refused: it may cost ~${est_usd:.6f}, and ${self._spent_usd:.6f}"
                    f" spent + ${self._held_usd:.6f} in flight of max_usd=${self.max_usd:g}"
                    f" leaves too little. Raise the budget or use a cheaper model.",
                    spent_usd=self._spent_usd,
                    spent_tokens=self._spent_tokens,
                )
        self._held_usd += est_usd
        self._held_tokens += est_tokens
        return Reservation(est_usd, est_tokens)

    def settle(self, reservation: Reservation | None, usd: float, tokens: int) -> None:
        """Release a reservation and record what the call actually used."""
        with self._lock:
            if reservation is not None:
                self._held_usd = max(0.0, self._held_usd - reservation.usd)
                self._held_tokens = max(0, self._held_tokens - reservation.tokens)
            self._spent_usd += usd
            self._spent_tokens += tokens
            self.calls += 1
            self._wake()

    def release(self, reservation: Reservation | None) -> None:
        """Give back a reservation of a call that failed (nothing was spent)."""
        if reservation is None:
            return
        with self._lock:
            self._held_usd = max(0.0, self._held_usd - reservation.usd)
            self._held_tokens = max(0, self._held_tokens - reservation.tokens)
            self._wake()

    def __repr__(self) -> str:
        return (
            f"Budget(max_usd={self.max_usd}, max_tokens={self.max_tokens}, "
            f"spent_usd={self._spent_usd:.6f}, spent_tokens={self._spent_tokens})"
        )
