"""The strategy comparison from the eval runner's results, with a scripted model double:
plain vs best-of-3 vs a guardrail run by `forgekit.evals`, then `strategy_table`,
`markdown_table` and `plot_frontier` on those results (`forgekit quality compare`:
tests/cli/test_cmd_quality.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.evals import markdown_table, plot_frontier, strategy_table
from forgekit.evals.frontier_plot import frontier_image
from tests.evals.strategy_suite import run_suite


@pytest.fixture
def results(tmp_path: Path):
    return run_suite(tmp_path)


def test_strategy_table_from_eval_results(results) -> None:
    rows = strategy_table(results)
    by = {r["solver"]: r for r in rows}
    assert [r["solver"] for r in rows] == ["plain", "best_of_3", "guardrail_3"]
    plain, bo3, guard = by["plain"], by["best_of_3"], by["guardrail_3"]
    # accuracy and its bootstrap CI are the runner's
    assert (plain["accuracy"], bo3["accuracy"], guard["accuracy"]) == (0.5, 1.0, 1.0)
    assert (bo3["ci_low"], bo3["ci_high"]) == (1.0, 1.0)
    assert 0.0 <= plain["ci_low"] < 0.5 < plain["ci_high"] <= 1.0
    # the paired difference against plain: +0.5 on 4 samples, two of them flipped;
    # the exact sign-flip test gives p = 2/4
    assert plain["diff"] is None and plain["p_value"] is None
    assert bo3["diff"] == 0.5 and bo3["p_value"] == 0.5 and bo3["significant"] is False
    assert guard["diff"] == 0.5 and guard["p_value"] == 0.5
    assert (bo3["won"], bo3["lost"], plain["won"]) == (2, 0, None)
    # cost per sample: 1 call; 3 candidates; 1 call on s0/s1, 2 (a reject) on s2/s3
    assert (plain["calls"], bo3["calls"], guard["calls"]) == (1.0, 3.0, 1.5)
    # tokens (the double counts words): 5 in + 4 out; 3 x (5 + 1); s2/s3 retry with the
    # rejected answer and the feedback in the prompt (24 in + 4 out more)
    assert (plain["tokens"], bo3["tokens"], guard["tokens"]) == (9.0, 18.0, 23.0)
    # USD at $1 per 1k input tokens: 5, 15 and (5 + 5 + 29 + 29) / 4 = 17 input tokens
    assert [round(r["cost_usd"], 6) for r in rows] == [0.005, 0.015, 0.017]
    # these models cost money, so the front is on USD: the guardrail is as accurate as
    # best-of-3 but dearer in USD (its retries carry long prompts), so it is off it...
    assert {r["cost_axis"] for r in rows} == {"cost_usd"}
    assert [r["pareto"] for r in rows] == [True, True, False]
    # ...and on model calls it is best-of-3 that is dominated
    on_calls = strategy_table(results, cost="calls")
    assert [r["pareto"] for r in on_calls] == [True, False, True]
    assert {r["cost_axis"] for r in on_calls} == {"calls"}


def test_baseline_choice_and_unknown_baseline(results) -> None:
    rows = strategy_table(results, baseline="best_of_3")
    by = {r["solver"]: r for r in rows}
    assert by["best_of_3"]["diff"] is None
    assert by["plain"]["diff"] == -0.5 and by["guardrail_3"]["diff"] == 0.0
    assert by["guardrail_3"]["p_value"] == 1.0
    assert (by["plain"]["won"], by["plain"]["lost"]) == (0, 2)
    with pytest.raises(ValueError, match="baseline 'nope' is not a solver"):
        strategy_table(results, baseline="nope")


def test_markdown_table_and_plot(results, tmp_path: Path) -> None:
    table = markdown_table(results, cost="calls")
    lines = table.splitlines()
    assert lines[0].startswith(
        "| solver | n | accuracy [95% CI] | Δ vs plain [95% CI] | p | won/lost | calls/sample |"
    )
    assert "Pareto (calls)" in lines[0]
    latency = f"{strategy_table(results)[1]['latency_s']:.1f}"
    assert lines[3] == (
        "| best_of_3 | 4 | 1.00 [1.00, 1.00] | +0.50 [+0.00, +1.00] | 0.500 | 2/0 | 3.0 | 18 | "
        f"0.015000 | {latency} |  |"
    )
    assert lines[4].startswith("| guardrail_3 | 4 | 1.00 [1.00, 1.00] | +0.50 [+0.00, +1.00] |")
    assert lines[4].endswith(" | ★ |") and lines[2].endswith(" | ★ |")
    assert table.count("★") == 2
    out = tmp_path / "front.png"
    plot_frontier(results, cost="calls", path=str(out))
    assert out.read_bytes()[:4] == b"\x89PNG" and out.stat().st_size > 5000
    # the one renderer: the same plot as PNG (EvalResults.plot, the report) and SVG
    png = results.plot(tmp_path / "plot.png").read_bytes()
    assert png[:4] == b"\x89PNG" and png == frontier_image(results)
    svg = frontier_image(results, format="svg", cost="calls").decode()
    assert "Pareto front" in svg and "model calls per sample" in svg
    assert all(s in svg for s in ("plain", "best_of_3", "guardrail_3"))


def test_pareto_front_and_plot_of_plain_rows(tmp_path: Path) -> None:
    from forgekit.evals import frontier_table, pareto_front

    rows = [
        {"strategy": "plain", "accuracy": 0.2, "cost": 1},
        {"strategy": "bo5", "accuracy": 0.3, "cost": 5},
        {"strategy": "debate", "accuracy": 0.25, "cost": 6},
        {"strategy": "same", "accuracy": 0.2, "cost": 1},
    ]
    assert pareto_front(rows) == [True, True, False, True]
    table = frontier_table(rows)
    assert [r["strategy"] for r in table][:2] == ["plain", "same"]
    out = tmp_path / "front.png"
    plot_frontier(rows, cost="cost", path=str(out))
    assert out.stat().st_size > 1000
    # rows without an accuracy (a cell where every sample failed) are left out, not fatal
    svg = frontier_image([*rows, {"strategy": "broken", "accuracy": None, "cost": 2}],
                         format="svg", cost="cost").decode()
    assert "debate" in svg and "broken" not in svg
    assert svg == frontier_image(rows, format="svg", cost="cost").decode()  # same bytes
