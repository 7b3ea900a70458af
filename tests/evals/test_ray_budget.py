"""The budget shared by Ray actors (`forgekit.evals.ray_budget`), its logic in this
process: the real `BudgetActor` called the way Ray calls an actor (each call a future).
The real local Ray runs it in `test_ray_executor.py`."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path

import pytest

from forgekit.core.errors import BudgetExceeded
from forgekit.evals.ray_budget import BudgetActor, RayBudget
from forgekit.evals.spend import spent_so_far


class _Handle:
    """An actor in this process, called as `handle.method.remote(*args)`."""

    def __init__(self, actor: BudgetActor) -> None:
        self.actor = actor

    def __getattr__(self, name: str) -> types.SimpleNamespace:
        method = getattr(self.actor, name)
        return types.SimpleNamespace(remote=lambda *a: asyncio.ensure_future(method(*a)))


def test_a_call_that_fits_once_others_settle_waits(tmp_path: Path):
    async def run() -> None:
        actor = BudgetActor(str(tmp_path), 1.0, None)
        handle = _Handle(actor)
        a = RayBudget(1.0, None, slot=1, actor=handle)
        b = RayBudget(1.0, None, slot=2, actor=handle)
        first = await a.areserve(0.3, 1)
        a.settle(first, 0.3, 1)  # sent without waiting ...
        await a.flush()  # ... and on the books before a chunk returns
        held = await a.areserve(0.6, 1)
        waiter = asyncio.ensure_future(b.areserve(0.3, 1))  # fits once a's call settles
        await asyncio.sleep(0.05)
        assert not waiter.done()
        a.settle(held, 0.2, 1)
        await a.flush()
        rid = await asyncio.wait_for(waiter, 2)
        with pytest.raises(BudgetExceeded, match="leaves too little"):
            await b.areserve(0.6, 1)  # 0.5 spent + 0.6 > 1 whatever settles
        b.settle(rid, 0.3, 1)
        await b.flush()
        assert b.state["spent_usd"] == pytest.approx(0.8) and b.state["held_usd"] == 0
        await handle.close.remote()

    asyncio.run(run())
    assert spent_so_far(tmp_path)[0] == pytest.approx(0.8)  # the ledger re-runs read


def test_a_dead_actors_holds_and_late_grants_are_dropped(tmp_path: Path):
    async def run() -> None:
        actor = BudgetActor(str(tmp_path), 1.0, None)
        handle = _Handle(actor)
        dead = RayBudget(1.0, None, slot=1, actor=handle)
        alive = RayBudget(1.0, None, slot=2, actor=handle)
        first = await dead.areserve(0.1, 1)
        dead.settle(first, 0.1, 1)
        await dead.flush()
        await dead.areserve(0.6, 1)  # in flight when its actor dies
        late = asyncio.ensure_future(dead.areserve(0.4, 1))  # waiting when it dies
        await asyncio.sleep(0.05)
        assert not late.done()
        await handle.clear_slot.remote(1)
        with pytest.raises(BudgetExceeded, match="gone"):
            await late  # granted once the holds went, then dropped: nobody would settle
        assert (await handle.state.remote())["held_usd"] == 0
        rid = await alive.areserve(0.8, 1)  # the whole rest of the budget is free
        alive.release(rid)
        await alive.flush()
        assert alive.state["held_usd"] == 0 and alive.state["spent_usd"] == pytest.approx(0.1)
        await handle.close.remote()

    asyncio.run(run())


def test_the_drivers_budget_starts_from_earlier_runs(tmp_path: Path):
    (tmp_path / "spend.jsonl").write_text('{"usd": 0.7, "tokens": 10}\n{"usd": 0.3, "tokens": 5}\n')

    async def connect() -> None:
        raise AssertionError("no call is made: the run is already over budget")

    budget = RayBudget.for_driver(tmp_path, 1.0, None, connect)
    assert budget.stop_reason == "budget of $1 spent ($1.000000)"
    assert budget.spent_tokens == 15
