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


def test_cli_budget_over_three_invocations_against_a_server(tmp_path):
    """`forgekit eval` three times, concurrency 16, against a local OpenAI-compatible
    server: each run reports the stop (exit 3), the total stays within the budget."""
    import os
    import subprocess
    import sys

    import yaml

    from forgekit.models.stub_server import StubServer

    with StubServer(latency_ms=20) as stub:
        (tmp_path / "forgekit.yaml").write_text(yaml.safe_dump({"models": {
            "default": "s",
            "aliases": {"s": {"model": "openai/stub", "api_base": stub.url,
                              "api_key_env": "STUB_KEY", "max_retries": 0,
                              "price": {"input_per_1k": 1.0, "output_per_1k": 1.0}}}}}))
        (tmp_path / "tasks.jsonl").write_text("".join(
            json.dumps({"id": f"s{i:03d}", "input": f"what is {i} + 1?", "target": str(i + 1)})
            + "\n" for i in range(120)))
        (tmp_path / "suite.yaml").write_text(yaml.safe_dump({
            "name": "budgeted", "taskset": "tasks.jsonl", "models": ["s"], "concurrency": 16,
            "budget": {"usd": 0.3}, "scorers": ["numeric"],
            "solvers": [{"name": "p", "template": "{input}", "params": {"max_tokens": 16}}]}))
        env = {**os.environ, "FORGEKIT_HOME": str(tmp_path), "STUB_KEY": "k"}
        out = tmp_path / "out"
        runs = [subprocess.run([sys.executable, "-m", "forgekit.cli.main", "eval", "suite.yaml",
                                "--out", str(out), "--no-mlflow", "--no-progress"],
                               cwd=tmp_path, env=env, capture_output=True, text=True,
                               timeout=300) for _ in range(3)]
    assert [r.returncode for r in runs] == [3, 3, 3], runs[0].stderr[-2000:]
    assert all("STOPPED (budget" in r.stdout and "stopped: budget" in r.stderr for r in runs)
    calls = [json.loads(x) for x in (out / LEDGER).read_text().splitlines()]
    largest = max(c["usd"] for c in calls)
    assert _spent(out) <= 0.3 + largest and len(calls) == stub.count
    # the budget was used, not given up early: what is left is less than one call's
    # estimate (prompt + max_tokens 16, at $1 per 1k tokens)
    assert _spent(out) > 0.3 - 0.03
