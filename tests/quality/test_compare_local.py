"""Integration: plain vs strategies on the embedded local model (SmolLM2-135M via
llama.cpp), run by the eval runner and read back by `strategy_table`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from forgekit.evals import evaluate, markdown_table, strategy_table

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]


def test_strategies_through_the_runner_on_the_local_model(local_gateway, tmp_path: Path) -> None:
    rows = [json.loads(x) for x in (ROOT / "datasets/arithmetic/arithmetic.jsonl").open()][:2]
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    suite = {
        "name": "quality-local",
        "taskset": "tasks.jsonl",
        "models": ["local"],
        "solvers": [
            {
                "name": "plain",
                "template": "{input}\nAnswer with just the number.",
                "params": {"max_tokens": 8, "temperature": 0.0},
            },
            {
                "name": "best_of_3",
                "type": "best_of_n",
                "options": {"inner": "plain", "n": 3, "temperature": 0.7},
            },
            {
                "name": "guardrail_2",
                "type": "guardrail",
                "options": {
                    "inner": "plain",
                    "validator": "forgekit.quality.guardrail:well_formed",
                    "max_attempts": 2,
                },
            },
        ],
        "scorers": [{"type": "numeric", "tolerance": 0.001}],
        "concurrency": 2,
    }
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    results = evaluate(path, local_gateway, out_dir=tmp_path / "eval", progress=False)

    df = results.df
    assert df.height == 6 and set(df["status"]) == {"completed"}, df["error"].to_list()
    table = strategy_table(results)
    by = {r["solver"]: r for r in table}
    assert list(by) == ["plain", "best_of_3", "guardrail_2"]
    assert by["plain"]["calls"] == 1.0 and by["best_of_3"]["calls"] == 3.0
    assert 1.0 <= by["guardrail_2"]["calls"] <= 2.0
    assert by["best_of_3"]["tokens"] > by["plain"]["tokens"] > 0
    assert all(r["cost_usd"] == 0.0 and r["cost_axis"] == "calls" for r in table)
    for r in table:
        assert 0.0 <= r["ci_low"] <= r["accuracy"] <= r["ci_high"] <= 1.0
        assert r["latency_s"] > 0
    assert by["plain"]["p_value"] is None
    for name in ("best_of_3", "guardrail_2"):
        r = by[name]
        assert r["diff"] == pytest.approx(r["accuracy"] - by["plain"]["accuracy"])
        assert 0.0 < r["p_value"] <= 1.0
    # the most accurate of the cheapest rows is never dominated; a row the front drops
    # is matched or beaten on both axes by another
    cheapest = [r for r in table if r["calls"] == min(x["calls"] for x in table)]
    assert max(cheapest, key=lambda r: r["accuracy"])["pareto"]
    for r in table:
        if not r["pareto"]:
            assert any(
                o["accuracy"] >= r["accuracy"] and o["calls"] <= r["calls"]
                for o in table
                if o is not r
            )
    assert markdown_table(table).count("\n") == 4  # header, rule, 3 rows
