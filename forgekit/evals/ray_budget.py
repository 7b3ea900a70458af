"""An eval's budget on Ray actors (`--executor ray` with a suite `budget`).

One small async Ray actor (`BudgetActor`) owns the run's `EvalBudget` (issue 15's
ledger, so a re-run counts what earlier runs spent) and is placed on the driver's node,
where it appends every settled call to the eval folder's `spend.jsonl`. The eval actors
and the driver hold a `RayBudget`: a `SpendLimit` whose reservations are made by the
budget actor — a call that does not fit only because of calls in flight (on any actor)
waits there for them to settle, without polling; a call that does not fit at all is
refused with `BudgetExceeded`. Settles and releases are sent without waiting and are
awaited before an actor returns a chunk (`flush`), so the driver never sees a record
whose spend is not yet on the books. When an actor dies, the driver clears what it held
(`clear_slot`). The guarantee is the one of a single process: the total exceeds the
budget by at most one call's use beyond its estimate.

Every reservation is one Ray call (~1 ms of latency, well under 1 ms of CPU): budgets
cost that much per model call on Ray, nothing without a budget.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from forgekit.core.errors import BudgetExceeded
from forgekit.evals.spend import spent_so_far

log = logging.getLogger(__name__)

State = dict[str, float]


class BudgetActor:
    """The run's budget, as a Ray actor: reserves, settles, releases, per slot (an eval
    actor, 0 for the driver)."""

    def __init__(self, out_dir: str, max_usd: float | None, max_tokens: int | None) -> None:
        from forgekit.evals.spend import EvalBudget

        self.budget = EvalBudget(out_dir, max_usd=max_usd, max_tokens=max_tokens)
        self.holds: dict[int, dict[int, Any]] = {}
        self.dead: set[int] = set()  # slots of actors that died
        self.next_id = 0

    def _state(self) -> State:
        b = self.budget
        return {"spent_usd": b.spent_usd, "spent_tokens": b.spent_tokens,
                "held_usd": b._held_usd, "held_tokens": b._held_tokens}

    async def reserve(self, slot: int, est_usd: float, est_tokens: int, what: str
                      ) -> tuple[int | None, str | None, State]:
        """(reservation id, None, state), or (None, why it was refused, state)."""
        try:
            held = await self.budget.areserve(est_usd, est_tokens, what=what)
        except BudgetExceeded as e:
            return None, str(e), self._state()
        if slot in self.dead:  # it asked, then died while waiting: nobody will settle
            self.budget.release(held)
            return None, "the actor that asked is gone", self._state()
        self.next_id += 1
        self.holds.setdefault(slot, {})[self.next_id] = held
        return self.next_id, None, self._state()

    async def settle(self, slot: int, rid: int | None, usd: float, tokens: int) -> State:
        # a cleared slot's late settle still counts: the money was spent
        held = self.holds.get(slot, {}).pop(rid, None) if rid is not None else None
        self.budget.settle(held, usd, tokens)
        return self._state()

    async def release(self, slot: int, rid: int) -> State:
        self.budget.release(self.holds.get(slot, {}).pop(rid, None))
        return self._state()

    async def clear_slot(self, slot: int) -> State:
        """Drop what a dead actor held in flight (its calls will never settle), and
        what it is still waiting for."""
        self.dead.add(slot)
        for held in self.holds.pop(slot, {}).values():
            self.budget.release(held)
        return self._state()

    async def state(self) -> State:
        return self._state()

    async def close(self) -> None:
        self.budget.close()


class RayBudget:
    """A `SpendLimit` (`forgekit.core.context`) answered by a `BudgetActor`.

    Args:
        max_usd, max_tokens: the limits (also known to the budget actor).
        slot: who holds what (0: the driver; an eval actor its own number).
        actor: the budget actor's handle; None until `connect` (the driver makes its
            budget before Ray runs).
        state: what was spent and is held, as last heard (for `fits` and `stop_reason`).
    """

    def __init__(self, max_usd: float | None, max_tokens: int | None, *, slot: int = 0,
                 actor: Any = None, state: State | None = None) -> None:
        self.max_usd = max_usd
        self.max_tokens = max_tokens
        self.slot = slot
        self.actor = actor
        self.state: State = state or {"spent_usd": 0.0, "spent_tokens": 0,
                                      "held_usd": 0.0, "held_tokens": 0}
        self._pending: list[Any] = []  # settles and releases not yet acknowledged
        self._connect: Callable[[], Awaitable[Any]] | None = None
        self.on_close: Callable[[], None] | None = None

    @classmethod
    def for_driver(cls, out_dir: str | Path, max_usd: float | None, max_tokens: int | None,
                   connect: Callable[[], Awaitable[Any]]) -> RayBudget:
        """The driver's budget: what earlier runs spent, read from the eval's folder;
        the budget actor is made on first use (`connect`)."""
        usd, tokens = spent_so_far(out_dir)
        b = cls(max_usd, max_tokens, state={"spent_usd": usd, "spent_tokens": tokens,
                                            "held_usd": 0.0, "held_tokens": 0})
        b._connect = connect
        return b

    async def _actor(self) -> Any:
        if self.actor is None and self._connect is not None:
            self.actor = await self._connect()
        return self.actor

    # -- SpendLimit -------------------------------------------------------------------------

    def fits(self, est_usd: float, est_tokens: int, *, in_flight: bool = True) -> bool:
        """From the last state heard: decides only how exactly the gateway estimates."""
        s = self.state
        held_u, held_t = (s["held_usd"], s["held_tokens"]) if in_flight else (0.0, 0)
        if self.max_tokens is not None and (
                s["spent_tokens"] + held_t + est_tokens > self.max_tokens):
            return False
        return self.max_usd is None or s["spent_usd"] + held_u + est_usd <= self.max_usd

    async def areserve(self, est_usd: float, est_tokens: int, *, what: str = "call") -> Any:
        actor = await self._actor()
        rid, refused, self.state = await actor.reserve.remote(
            self.slot, est_usd, est_tokens, what)
        if refused is not None:
            raise BudgetExceeded(refused, spent_usd=self.state["spent_usd"],
                                 spent_tokens=int(self.state["spent_tokens"]))
        return rid

    def settle(self, reservation: Any, usd: float, tokens: int) -> None:
        self._pending.append(self.actor.settle.remote(self.slot, reservation, usd, tokens))

    def release(self, reservation: Any) -> None:
        if reservation is not None:
            self._pending.append(self.actor.release.remote(self.slot, reservation))

    async def flush(self) -> None:
        """Wait until the budget actor has every settle and release sent so far."""
        while self._pending:
            refs, self._pending = self._pending, []
            states = await asyncio.gather(*refs)
            self.state = states[-1]

    # -- what the runner reads (the driver) --------------------------------------------------

    def _sync(self) -> None:
        if self.actor is not None:
            import ray

            refs, self._pending = self._pending, []
            try:
                ray.get(refs, timeout=30)
                self.state = ray.get(self.actor.state.remote(), timeout=30)
            except Exception as e:  # the ledger holds what was settled; say so, go on
                log.warning("the budget actor did not answer (%s); last state: %s", e,
                            self.state)

    @property
    def spent_usd(self) -> float:
        self._sync()
        return float(self.state["spent_usd"])

    @property
    def spent_tokens(self) -> int:
        self._sync()
        return int(self.state["spent_tokens"])

    @property
    def stop_reason(self) -> str | None:
        """Why no further call fits (None while one may)."""
        usd, tokens = self.spent_usd, self.spent_tokens
        if self.max_usd is not None and usd >= self.max_usd:
            return f"budget of ${self.max_usd:g} spent (${usd:.6f})"
        if self.max_tokens is not None and tokens >= self.max_tokens:
            return f"budget of {self.max_tokens} tokens spent ({tokens})"
        return None

    def close(self) -> None:
        if self.on_close is not None:
            self.on_close()

