"""An eval's budget: spent money read back on every run, calls that wait for calls in
flight instead of failing, the stop reported, a larger budget continuing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from forgekit.core.config import Price
from forgekit.core.messages import ModelResponse, Usage
from forgekit.evals import evaluate
from forgekit.evals.spend import LEDGER, EvalBudget, spent_so_far
from forgekit.models import Gateway

# 1 USD per 1k tokens both ways; every call: 1 prompt + 10 completion tokens = $0.011,
# what the gateway estimates for the prompt "x" with max_tokens=10
PER_CALL = 0.011


class Priced:
    """Answers after a short delay, so that many calls are in flight together."""

    def __init__(self, delay_s: float = 0.01) -> None:
        self.delay_s = delay_s
        self.calls = 0

    async def complete(self, request):
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        return ModelResponse(text="0", usage=Usage(input_tokens=1, output_tokens=10))


def _suite(write_suite, usd: float, n: int = 200):
    return write_suite(
        budget={"usd": usd},
        concurrency=16,
        # max_tokens bounds each call's estimate, so reservations cover actual use
        solvers=[{"name": "p", "template": "{input}", "params": {"max_tokens": 10}}],
        samples=[{"id": f"s{i:03d}", "input": "x", "target": "0"} for i in range(n)],
    )


def _spent(out: Path) -> float:
    return sum(json.loads(line)["usd"] for line in (out / LEDGER).read_text().splitlines())


def test_calls_wait_for_calls_in_flight_instead_of_failing(config, write_suite, tmp_path):
    config.models.aliases["m1"].price = Price(input_per_1k=1.0, output_per_1k=1.0)
    src = Priced()
    gw = Gateway(config, source=src)
    out = tmp_path / "o"
    res = evaluate(_suite(write_suite, usd=0.5), gw, out_dir=out, progress=False)
    completed = res.df.filter(res.df["status"] == "completed").height
    # $0.50 buys 45 calls; before, a call refused because of the 15 others in flight
    # failed its sample for good (8 of 200 ran)
    assert completed == int(0.5 / PER_CALL) and src.calls == completed
    assert res.df.filter(res.df["status"] == "budget-exceeded").height <= 16
    assert res.stopped and res.stopped.startswith("budget")
    assert res.df.height + res.not_run == 200
    assert _spent(out) <= 0.5 + 1e-9
    assert res.df["cost_usd"].sum() == _spent(out)


def test_budget_over_three_invocations_never_exceeds_it(config, write_suite, tmp_path):
    config.models.aliases["m1"].price = Price(input_per_1k=1.0, output_per_1k=1.0)
    out = tmp_path / "o"
    suite = _suite(write_suite, usd=0.3)
    stops = []
    for _ in range(3):
        res = evaluate(suite, Gateway(config, source=Priced()), out_dir=out, progress=False)
        stops.append(res.stopped)
    assert all(s and s.startswith("budget") for s in stops)
    assert _spent(out) <= 0.3 + PER_CALL  # at most one call over, across all runs
    assert spent_so_far(out)[0] == _spent(out)
    # a larger budget continues: every sample done exactly once
    res = evaluate(_suite(write_suite, usd=10.0), Gateway(config, source=Priced()),
                   out_dir=out, progress=False)
    assert res.stopped is None and res.df["status"].to_list() == ["completed"] * 200
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    keys = [r["sample_id"] for r in lines if r["status"] == "completed"]
    assert len(keys) == len(set(keys)) == 200


def test_spend_of_an_old_eval_folder_comes_from_its_results_log(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    rows = [{"cost_usd": 0.1, "input_tokens": 5, "output_tokens": 5}] * 3
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    b = EvalBudget(out, max_usd=0.25)
    assert abs(b.spent_usd - 0.3) < 1e-9 and b.spent_tokens == 30
    assert b.stop_reason and "spent" in b.stop_reason
    b.close()
    # from now on the ledger is the record
    assert abs(spent_so_far(out)[0] - 0.3) < 1e-9
