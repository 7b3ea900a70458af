"""Accuracy against cost over evaluation results: one row per (model, solver) with the
paired comparison against a baseline solver, and the Pareto front.

`strategy_table(results)` turns `EvalResults` into one row per (model, solver):
accuracy with its bootstrap CI, the paired difference against the baseline solver with
its CI and p-value (both computed by `EvalResults`), and the cost per sample (model
calls, tokens, USD, latency), with a ``pareto`` flag. `markdown_table` shows the rows;
`forgekit.evals.frontier_plot` draws them. The solvers are often quality strategies
(plain vs best-of-N), hence the name, but any solvers compare the same way.

A row is on the front when no other row is at least as accurate for at most the same
cost and strictly better in one of the two (point estimates: with overlapping CIs, being
on the front is not evidence of a real gain; the paired p-value says that).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forgekit.evals.results import EvalResults

Rows = list[dict[str, Any]]

# the cost axes a table/plot can use: row key -> axis label
COST_AXES: dict[str, str] = {
    "calls": "model calls per sample",
    "tokens": "tokens per sample",
    "cost_usd": "USD per sample",
    "latency_s": "seconds per sample",
}


def pareto_front(
    rows: Sequence[dict[str, Any]], *, accuracy: str = "accuracy", cost: str = "cost"
) -> list[bool]:
    """For each row, whether it is on the accuracy-vs-cost Pareto front."""
    out = []
    for r in rows:
        dominated = any(
            o is not r
            and o[accuracy] >= r[accuracy]
            and o[cost] <= r[cost]
            and (o[accuracy] > r[accuracy] or o[cost] < r[cost])
            for o in rows
        )
        out.append(not dominated)
    return out


def frontier_table(
    rows: Sequence[dict[str, Any]], *, accuracy: str = "accuracy", cost: str = "cost"
) -> list[dict[str, Any]]:
    """The rows sorted by cost, each with a ``pareto`` flag."""
    flags = pareto_front(rows, accuracy=accuracy, cost=cost)
    marked = [{**r, "pareto": f} for r, f in zip(rows, flags, strict=True)]
    return sorted(marked, key=lambda r: (r[cost], -r[accuracy]))


def pick_cost_axis(rows: Sequence[dict[str, Any]], cost: str = "auto") -> str:
    """The cost column to use: ``cost_usd`` when some row costs money, else ``calls``
    (the local model is free; ``tokens`` for rows without calls); any key of `COST_AXES`
    explicitly."""
    if cost == "auto":
        if any((r.get("cost_usd") or 0) > 0 for r in rows):
            return "cost_usd"
        # free models: the first effort measure the rows have (strategy rows: calls)
        for axis in ("calls", "tokens"):
            if any(axis in r for r in rows):
                return axis
        return "cost_usd"
    if cost == "usd":
        return "cost_usd"
    if cost not in COST_AXES:
        raise ValueError(f"unknown cost axis {cost!r}; use auto, {', '.join(COST_AXES)}")
    return cost


def _nan_to_none(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def strategy_table(
    results: EvalResults,
    *,
    baseline: str | None = None,
    cost: str = "auto",
    confidence: float = 0.95,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per (model, solver) of an evaluation, in the suite's order.

    Args:
        results: the runner's `EvalResults` (``forgekit.evals.evaluate(...)``).
        baseline: the solver every other solver of the same model is compared with
            (default: the suite's first solver, e.g. ``plain``).
        cost: the Pareto front's cost axis: ``auto`` (USD when anything costs money,
            else model calls), ``calls``, ``tokens``, ``cost_usd``/``usd``, ``latency_s``.
        confidence: of the accuracy CI and the paired difference's CI.
        seed: of the bootstrap resampling.

    Each row: ``model``, ``solver``, ``samples``, ``errors``, ``accuracy``, ``ci_low``,
    ``ci_high``; against the baseline (None on the baseline's own row): ``diff``,
    ``diff_low``, ``diff_high``, ``p_value``, ``significant``, ``won``/``lost`` (samples
    scored higher/lower than the baseline's); per sample (mean over every run of the
    cell): ``calls``, ``tokens``, ``cost_usd``, ``latency_s``; then ``baseline`` (the
    solver compared with), ``cost_axis`` and ``pareto``.
    """
    import polars as pl

    summary = {
        (r["model"], r["solver"]): r
        for r in results.summary(confidence=confidence, seed=seed).iter_rows(named=True)
    }
    cells = list(summary)
    if not cells:
        return []
    solvers = list(dict.fromkeys(s for _, s in cells))
    base_solver = baseline or solvers[0]
    if base_solver not in solvers:
        raise ValueError(f"baseline {base_solver!r} is not a solver of this evaluation: {solvers}")
    paired: dict[tuple[str, str], dict[str, Any]] = {}
    for model in dict.fromkeys(m for m, _ in cells):
        if (model, base_solver) not in summary:
            continue
        cmp = results.compare((model, base_solver), confidence=confidence, seed=seed)
        for r in cmp.iter_rows(named=True) if cmp.height else []:
            if r["model"] == model:
                paired[(model, r["solver"])] = r
    wins: dict[tuple[str, str], tuple[int, int]] = {}
    for model, solver in cells:
        if (model, base_solver) in summary and solver != base_solver:
            a = results.per_sample(model, base_solver)
            b = results.per_sample(model, solver)
            common = [k for k in a if k in b]
            wins[(model, solver)] = (
                sum(b[k] > a[k] for k in common),
                sum(b[k] < a[k] for k in common),
            )
    df = results.df
    per_run = (
        df.with_columns((pl.col("input_tokens") + pl.col("output_tokens")).alias("_tokens"))
        .group_by("model", "solver")
        .agg(
            pl.col("model_calls").mean().alias("calls"),
            pl.col("_tokens").mean().alias("tokens"),
            pl.col("cost_usd").mean().alias("cost_usd"),
            pl.col("latency_s").mean().alias("latency_s"),
        )
    )
    costs = {(r["model"], r["solver"]): r for r in per_run.iter_rows(named=True)}
    rows = []
    for cell in cells:
        s, c, p = summary[cell], costs[cell], paired.get(cell)
        rows.append(
            {
                "model": cell[0],
                "solver": cell[1],
                "samples": s["samples"],
                "errors": s["errors"],
                "accuracy": s["accuracy"],
                "ci_low": s["ci_low"],
                "ci_high": s["ci_high"],
                "diff": _nan_to_none(p["diff"]) if p else None,
                "diff_low": _nan_to_none(p["ci_low"]) if p else None,
                "diff_high": _nan_to_none(p["ci_high"]) if p else None,
                "p_value": _nan_to_none(p["p_value"]) if p else None,
                "significant": bool(p["significant"]) if p else None,
                "won": wins[cell][0] if cell in wins else None,
                "lost": wins[cell][1] if cell in wins else None,
                "calls": float(c["calls"] or 0.0),
                "tokens": float(c["tokens"] or 0.0),
                "cost_usd": float(c["cost_usd"] or 0.0),
                "latency_s": float(c["latency_s"] or 0.0),
                "baseline": base_solver,
            }
        )
    axis = pick_cost_axis(rows, cost)
    for r, front in zip(rows, pareto_front(rows, cost=axis), strict=True):
        r["cost_axis"] = axis
        r["pareto"] = front
    return rows


def as_rows(
    results_or_rows: EvalResults | Sequence[dict[str, Any]], cost: str = "auto"
) -> Rows:
    """`strategy_table` rows of an `EvalResults`; rows (any dicts) as they are."""
    if isinstance(results_or_rows, Sequence):
        return list(results_or_rows)
    return strategy_table(results_or_rows, cost=cost)


def markdown_table(
    results_or_rows: EvalResults | Sequence[dict[str, Any]], *, cost: str = "auto"
) -> str:
    """The comparison as a Markdown table (an `EvalResults` or `strategy_table` rows):
    accuracy [95% CI], the paired difference against the baseline [95% CI] and its
    p-value, cost per sample; ★ marks the Pareto front (on ``cost_axis``)."""
    rows = as_rows(results_or_rows, cost)
    models = len({r["model"] for r in rows}) > 1
    axis = rows[0]["cost_axis"] if rows else "calls"
    base = rows[0]["baseline"] if rows else "baseline"
    head = (["model"] if models else []) + [
        "solver",
        "n",
        "accuracy [95% CI]",
        f"Δ vs {base} [95% CI]",
        "p",
        "won/lost",
        "calls/sample",
        "tokens/sample",
        "USD/sample",
        "s/sample",
        f"Pareto ({axis})",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        diff = (
            "—"
            if r["diff"] is None
            else f"{r['diff']:+.2f} [{r['diff_low']:+.2f}, {r['diff_high']:+.2f}]"
        )
        cells = ([r["model"]] if models else []) + [
            r["solver"],
            f"{r['samples']}" + (f" ({r['errors']} err)" if r["errors"] else ""),
            f"{r['accuracy']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]",
            diff,
            "—" if r["p_value"] is None else f"{r['p_value']:.3f}",
            "—" if r.get("won") is None else f"{r['won']}/{r['lost']}",
            f"{r['calls']:.1f}",
            f"{r['tokens']:.0f}",
            f"{r['cost_usd']:.6f}",
            f"{r['latency_s']:.1f}",
            "★" if r["pareto"] else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
