"""A budget shared by worker processes: what one process holds in flight or spends is
seen by the others, a dead worker's holds are cleared, and N real worker processes
never spend more than the budget in total."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from forgekit.core.config import Price
from forgekit.core.errors import BudgetExceeded
from forgekit.core.messages import ModelResponse, Usage
from forgekit.evals import evaluate
from forgekit.evals.shared_budget import SharedEvalBudget
from forgekit.evals.spend import LEDGER, spent_so_far
from forgekit.evals.workers import ProcessExecutor
from forgekit.models import Gateway

PER_CALL = 0.011  # 1 prompt + 10 completion tokens at $1 per 1k tokens both ways


class Priced:
    """Answers after a short delay (so many calls are in flight together); picklable,
    so worker processes rebuild it."""

    def __init__(self, delay_s: float = 0.01) -> None:
        self.delay_s = delay_s

    async def complete(self, request):
        await asyncio.sleep(self.delay_s)
        return ModelResponse(text="0", usage=Usage(input_tokens=1, output_tokens=10))


class BudgetedRunInThread:
    """An evaluation on another thread, watched until its spend ledger has `lines` lines
    (calls in flight), so a test can kill a worker or an actor mid-run."""

    def __init__(self, suite, config, out: Path, executor, delay_s: float = 0.1) -> None:
        import threading

        self.out, self.box = out, {}

        def run() -> None:
            try:
                self.box["res"] = evaluate(suite, Gateway(config, source=Priced(delay_s)),
                                           out_dir=out, progress=False, executor=executor)
            except BaseException as e:  # reported by result()
                self.box["err"] = e

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def wait_for_ledger(self, lines: int, timeout_s: float) -> None:
        import time

        ledger, deadline = self.out / LEDGER, time.monotonic() + timeout_s
        while not (ledger.exists() and len(ledger.read_text().splitlines()) >= lines):
            assert time.monotonic() < deadline and self.thread.is_alive(), self.box
            time.sleep(0.02)

    def result(self, timeout_s: float = 120):
        """The run's EvalResults and the dollars its ledger holds."""
        self.thread.join(timeout_s)
        assert not self.thread.is_alive() and "err" not in self.box, self.box.get("err")
        ledger = (self.out / LEDGER).read_text().splitlines()
        return self.box["res"], sum(json.loads(x)["usd"] for x in ledger)


def test_processes_see_each_others_holds_and_spend(tmp_path: Path):
    parent = SharedEvalBudget(tmp_path, max_usd=1.0, slots=3, create=True)
    a = SharedEvalBudget(tmp_path, max_usd=1.0, slot=1)
    b = SharedEvalBudget(tmp_path, max_usd=1.0, slot=2)
    try:
        held = a.reserve(0.6, 10)
        with pytest.raises(BudgetExceeded, match="in flight"):
            b.reserve(0.6, 10)  # a's hold counts in b
        assert b.fits(0.3, 10)
        a.settle(held, 0.5, 10)
        assert b.spent_usd == pytest.approx(0.5) and parent.spent_usd == pytest.approx(0.5)
        b.reserve(0.45, 10)  # room again: 0.5 spent, nothing else held
        assert not a.fits(0.1, 1)
        parent.clear_slot(2)  # b died with its call in flight
        assert a.fits(0.1, 1)
    finally:
        for x in (a, b, parent):
            x.close()
    assert spent_so_far(tmp_path)[0] == pytest.approx(0.5)  # the ledger, as re-runs read it


def test_waiting_for_another_process_to_settle(tmp_path: Path):
    parent = SharedEvalBudget(tmp_path, max_usd=1.0, slots=3, create=True)
    a = SharedEvalBudget(tmp_path, max_usd=1.0, slot=1)
    b = SharedEvalBudget(tmp_path, max_usd=1.0, slot=2)

    async def run() -> float:
        first = await a.areserve(0.3, 1)
        a.settle(first, 0.3, 1)  # one call settled: no more one-at-a-time
        held = await a.areserve(0.6, 1)
        waiter = asyncio.ensure_future(b.areserve(0.3, 1))  # fits only once a settles
        await asyncio.sleep(0.1)
        assert not waiter.done()
        a.settle(held, 0.2, 1)  # another process's settle: b finds out by polling
        await asyncio.wait_for(waiter, 2)
        return b.spent_usd

    try:
        assert asyncio.run(run()) == pytest.approx(0.5)
    finally:
        for x in (a, b, parent):
            x.close()


def test_workers_never_exceed_the_budget_in_total(config, write_suite, tmp_path):
    config.models.aliases["m1"].price = Price(input_per_1k=1.0, output_per_1k=1.0)
    suite = write_suite(
        budget={"usd": 0.5},
        concurrency=16,
        solvers=[{"name": "p", "template": "{input}", "params": {"max_tokens": 10}}],
        samples=[{"id": f"s{i:03d}", "input": "x", "target": "0"} for i in range(200)],
    )
    out = tmp_path / "o"
    executor = ProcessExecutor(3)
    res = evaluate(suite, Gateway(config, source=Priced()), out_dir=out, progress=False,
                   executor=executor)
    spent = sum(json.loads(x)["usd"] for x in (out / LEDGER).read_text().splitlines())
    completed = res.df.filter(res.df["status"] == "completed").height
    assert spent <= 0.5 + 1e-9  # three processes, one budget
    assert completed == int(0.5 / PER_CALL)  # and it was used, not given up early
    assert res.df["cost_usd"].sum() == pytest.approx(spent)
    assert res.stopped and res.stopped.startswith("budget")
    assert res.df.height + res.not_run == 200 and executor.restarts == 0
    # a second run with the same budget spends nothing more
    res2 = evaluate(suite, Gateway(config, source=Priced()), out_dir=out, progress=False,
                    workers=2)
    assert res2.stopped and spent_so_far(out)[0] == pytest.approx(spent)


def test_a_killed_workers_holds_do_not_block_the_others(config, write_suite, tmp_path):
    """SIGKILL a budgeted worker mid-run: what it held in flight is cleared, so the
    others and its replacement use the rest of the budget and the run ends."""
    import os
    import signal

    config.models.aliases["m1"].price = Price(input_per_1k=1.0, output_per_1k=1.0)
    suite = write_suite(
        budget={"usd": 0.5},
        concurrency=16,
        solvers=[{"name": "p", "template": "{input}", "params": {"max_tokens": 10}}],
        samples=[{"id": f"s{i:03d}", "input": "x", "target": "0"} for i in range(120)],
    )
    executor = ProcessExecutor(2)
    run = BudgetedRunInThread(suite, config, tmp_path / "o", executor)
    run.wait_for_ledger(6, timeout_s=60)
    os.kill(executor.processes[0].pid, signal.SIGKILL)  # with calls in flight
    res, spent = run.result()
    assert executor.restarts >= 1
    assert spent <= 0.5 + 1e-9
    # the budget was used up, not left held by the dead worker
    assert spent > 0.5 - 2 * PER_CALL
    assert res.stopped and res.stopped.startswith("budget")
