"""Budgets: a spending limit in USD and/or tokens that a run carries through its calls.

A call is refused *before* it is sent when its estimate (prompt tokens plus `max_tokens`,
priced) would take the budget past its limit; actual spend is recorded after the call.
Estimates of calls still in flight are reserved, so concurrent calls cannot jointly
overshoot: the only overspend possible is a call's actual use exceeding its estimate
(without `max_tokens`, the gateway estimates the reply as the longest one it has seen
from that alias).

Example:
    >>> from forgekit.models import Budget
    >>> b = Budget(max_usd=0.50, max_tokens=20_000)
    >>> b.remaining
    {'usd': 0.5, 'tokens': 20000}
"""

from __future__ import annotations

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
        self._lock = threading.Lock()

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

    def reserve(self, est_usd: float, est_tokens: int, *, what: str = "call") -> Reservation:
        """Hold an estimate for a call about to be sent, or raise BudgetExceeded."""
        with self._lock:
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

    def release(self, reservation: Reservation | None) -> None:
        """Give back a reservation of a call that failed (nothing was spent)."""
        if reservation is None:
            return
        with self._lock:
            self._held_usd = max(0.0, self._held_usd - reservation.usd)
            self._held_tokens = max(0, self._held_tokens - reservation.tokens)

    def __repr__(self) -> str:
        return (
            f"Budget(max_usd={self.max_usd}, max_tokens={self.max_tokens}, "
            f"spent_usd={self._spent_usd:.6f}, spent_tokens={self._spent_tokens})"
        )
