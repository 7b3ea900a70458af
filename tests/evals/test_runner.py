"""The runner: grid, per-model concurrency, errors counted, limits, budget, epochs with
pass@k, running-loop safety."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from forgekit.core.messages import ModelResponse, Usage
from forgekit.evals import evaluate, load_suite
from forgekit.models import Gateway, ScriptedSource


def adder(request) -> str:
    """Answers 'what is a + b?' right, except for sample s3 (wrong) and s4 (crash)."""
    q = request.messages[-1].content
    a = [int(x) for x in re.findall(r"\d+", q)]
    if a[0] == 4:
        raise RuntimeError("model crashed on s4")
    return f"the sum is {a[0] + a[1] + (1 if a[0] == 3 else 0)}"


class CountingSource:
    """Tracks how many requests are in flight per model."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    async def complete(self, request):
        m = request.alias
        self.now[m] = self.now.get(m, 0) + 1
        self.peak[m] = max(self.peak.get(m, 0), self.now[m])
        await asyncio.sleep(self.delay)
        self.now[m] -= 1
        return ModelResponse(text="0", usage=Usage(input_tokens=3, output_tokens=1))


def test_grid_errors_counted_and_trajectories(config, write_suite, tmp_path: Path) -> None:
    suite = write_suite(
        models=["m1", "m2"],
        solvers=[{"name": "p", "template": "{input}"}, {"name": "q", "template": "Q: {input}"}],
    )
    gw = Gateway(config, source=ScriptedSource(adder))
    res = evaluate(suite, gw, out_dir=tmp_path / "out", progress=False)
    df = res.df
    assert df.height == 2 * 2 * 6
    assert df.select("model", "solver").unique().height == 4
    failed = df.filter(df["status"] == "failed")
    assert failed.height == 4 and set(failed["sample_id"]) == {"s4"}
    assert all("model crashed on s4" in e for e in failed["error"])
    summary = res.summary()
    assert summary["errors"].to_list() == [1, 1, 1, 1]
    # s0..s5: s3 wrong, s4 failed (counts as wrong) -> 4/6
    assert summary["accuracy"].to_list() == [pytest.approx(4 / 6)] * 4
    first = df.row(0, named=True)
    scores = json.loads(first["scores"])
    assert scores[0]["explanation"] and first["input_tokens"] > 0
    events = [json.loads(line) for line in Path(first["trajectory"]).read_text().splitlines()]
    types = [e.get("type") for e in events]
    assert types[0] == "run_start" and "model_call" in types and "score" in types
    assert types[-1] == "run_end"
    meta = json.loads((tmp_path / "out" / "suite.json").read_text())
    # the identity comes from the objects the suite compiles to, not from its text
    assert meta["suite_hash"] == load_suite(suite).build().config_hash()


def test_concurrency_is_limited_per_model(config, write_suite, tmp_path: Path) -> None:
    suite = write_suite(
        models=["m1", "m2"],
        concurrency=3,
        samples=[{"id": f"s{i}", "input": "x", "target": "0"} for i in range(20)],
    )
    src = CountingSource()
    res = evaluate(suite, Gateway(config, source=src), out_dir=tmp_path / "o", progress=False)
    assert res.df.height == 40
    assert src.peak == {"m1": 3, "m2": 3}


def test_epochs_and_pass_at_k(config, write_suite, tmp_path: Path) -> None:
    calls: dict[str, int] = {}

    def flaky(request):  # right on the first epoch of even samples only
        sid = request.call_key["sample"]
        calls[sid] = calls.get(sid, 0) + 1
        n = int(sid[1:])
        return "0" if (n % 2 == 0 and request.call_key["epoch"] == 0) else "99"

    suite = write_suite(
        epochs=3, samples=[{"id": f"s{i}", "input": "x", "target": "0"} for i in range(4)]
    )
    res = evaluate(
        suite, Gateway(config, source=ScriptedSource(flaky)), out_dir=tmp_path / "o", progress=False
    )
    assert res.df.height == 12 and set(calls.values()) == {3}
    row = res.summary().row(0, named=True)
    # even samples: 1 of 3 epochs right; odd: 0 of 3
    assert row["pass@1"] == pytest.approx(0.5 * (1 / 3))
    assert row["pass@3"] == pytest.approx(0.5)
    assert row["accuracy"] == pytest.approx(1 / 6)
    seeds = res.df.group_by("sample_id", "epoch").agg(res.df["seed"].first())
    assert seeds.height == 12 and res.df["seed"].n_unique() == 12


def test_limits_time_and_tokens(config, write_suite, tmp_path: Path) -> None:
    suite = write_suite(
        limits={"time_s": 0.2, "tokens": 1000},
        samples=[
            {"id": "slow", "input": "x", "target": "0"},
            {"id": "big", "input": "y", "target": "0"},
        ],
    )

    async def fn(request):
        return None

    class Src:
        async def complete(self, request):
            if request.messages[-1].content == "x":
                await asyncio.sleep(5)
            return ModelResponse(text="0", usage=Usage(input_tokens=900, output_tokens=200))

    res = evaluate(suite, Gateway(config, source=Src()), out_dir=tmp_path / "o", progress=False)
    errors = dict(zip(res.df["sample_id"], res.df["error"], strict=True))
    assert errors["slow"].startswith("time limit")
    assert errors["big"].startswith("token limit")
    assert res.df["status"].to_list() == ["failed", "failed"]


def test_budget_stops_the_run_and_a_larger_one_continues(
    config, write_suite, tmp_path: Path
) -> None:
    from forgekit.core.config import Price

    config.models.aliases["m1"].price = Price(input_per_1k=1.0, output_per_1k=1.0)
    samples = [{"id": f"s{i}", "input": "x", "target": "0"} for i in range(10)]
    suite = write_suite(budget={"usd": 0.05}, concurrency=1, samples=samples)

    class Src:
        calls = 0

        async def complete(self, request):
            Src.calls += 1
            return ModelResponse(text="0", usage=Usage(input_tokens=10, output_tokens=10))

    out = tmp_path / "o"
    res = evaluate(suite, Gateway(config, source=Src()), out_dir=out, progress=False)
    assert res.stopped and res.stopped.startswith("budget")
    assert 0 < res.not_run < 10 and res.df.height + res.not_run == 10
    assert "STOPPED (budget" in res.comparison_table()
    # the same budget again: nothing left, no call made, the stop reported again
    calls = Src.calls
    again = evaluate(suite, Gateway(config, source=Src()), out_dir=out, progress=False)
    assert Src.calls == calls and again.stopped
    assert again.df.height + again.not_run == 10
    # a larger budget continues the same eval: every sample done once
    bigger = write_suite(budget={"usd": 1.0}, concurrency=1, samples=samples)
    done = evaluate(bigger, Gateway(config, source=Src()), out_dir=out, progress=False)
    assert done.stopped is None and done.not_run == 0
    assert done.df["status"].to_list() == ["completed"] * 10
    assert Src.calls == 10  # a refused call is never sent; no sample ran twice


def test_evaluate_inside_a_running_loop(config, write_suite, tmp_path: Path) -> None:
    suite = write_suite()

    async def cell():  # like a Jupyter cell: a loop is already running
        return evaluate(
            suite,
            Gateway(config, source=ScriptedSource(adder)),
            out_dir=tmp_path / "o",
            progress=False,
        )

    res = asyncio.run(cell())
    assert res.df.height == 6


def test_unknown_solver_type_fails_clearly(config, write_suite, tmp_path: Path) -> None:
    from forgekit.core.errors import ConfigError

    suite = write_suite(solvers=[{"name": "x", "type": "no_such_solver"}])
    with pytest.raises(ConfigError, match="unknown solver type 'no_such_solver'"):
        evaluate(suite, Gateway(config, source=ScriptedSource(["0"])), out_dir=tmp_path / "o")


def test_registered_solver_type(config, write_suite, tmp_path: Path) -> None:
    from forgekit.core.samples import Answer
    from forgekit.evals import register_solver

    class Twice:
        def __init__(self, name: str, times: int = 2) -> None:
            self.name, self.times = name, times

        def config(self):
            return {"type": "twice", "times": self.times}

        async def solve(self, sample, ctx):
            for _ in range(self.times):
                r = await ctx.complete(sample.input_text())
            return Answer(text=r.text)

    register_solver("twice", Twice)
    suite = write_suite(solvers=[{"name": "tw", "type": "twice", "options": {"times": 3}}])
    res = evaluate(
        suite, Gateway(config, source=ScriptedSource(adder)), out_dir=tmp_path / "o", progress=False
    )
    assert res.df["model_calls"].to_list()[0] == 3


def test_secret_values_in_samples_never_reach_results_or_the_model(
    config, write_suite, tmp_path: Path, monkeypatch
) -> None:
    secret = "sk-sample-SECRET-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    suite = write_suite(
        samples=[{"id": "k", "input": f"repeat {secret}", "target": f"the key {secret}"}],
        scorers=["exact"],
    )
    src = ScriptedSource(lambda r: r.messages[-1].content)  # echoes what it was sent
    res = evaluate(suite, Gateway(config, source=src), out_dir=tmp_path / "o", progress=False)
    assert secret not in src.requests[0].messages[-1].content  # redacted before sending
    rows = res.df.to_dicts()
    assert rows and all(secret not in json.dumps(r, default=str) for r in rows)
    assert "[REDACTED]" in rows[0]["target"]
    for f in (tmp_path / "o").rglob("*"):
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f
