"""Accuracy against cost: the strategy comparison table and its Pareto front, from the
eval runner's results.

The measurement itself is the eval runner's (`forgekit.evals`): a suite names plain and
each strategy as solvers, the runner runs them on the same samples and returns
`EvalResults`. `strategy_table(results)` turns those into one row per (model, solver):
accuracy with its bootstrap CI, the paired difference against the baseline solver with
its CI and p-value (both computed by `EvalResults`), and the cost per sample (model
calls, tokens, USD, latency), with a ``pareto`` flag. `markdown_table` and
`plot_frontier` show the rows.

A row is on the front when no other row is at least as accurate for at most the same
cost and strictly better in one of the two (point estimates: with overlapping CIs, being
on the front is not evidence of a real gain; the paired p-value says that).

This module reads `EvalResults` by duck typing (``summary()``, ``compare()``, ``df``),
so the quality layer does not import the evals layer above it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

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
    (the local model is free); any key of `COST_AXES` explicitly."""
    if cost == "auto":
        return "cost_usd" if any(r.get("cost_usd", 0) > 0 for r in rows) else "calls"
    if cost == "usd":
        return "cost_usd"
    if cost not in COST_AXES:
        raise ValueError(f"unknown cost axis {cost!r}; use auto, {', '.join(COST_AXES)}")
    return cost


def _nan_to_none(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def strategy_table(
    results: Any,
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


def _rows(results_or_rows: Any, cost: str) -> list[dict[str, Any]]:
    if hasattr(results_or_rows, "summary") and hasattr(results_or_rows, "df"):
        return strategy_table(results_or_rows, cost=cost)
    return list(results_or_rows)


def markdown_table(results_or_rows: Any, *, cost: str = "auto") -> str:
    """The comparison as a Markdown table (an `EvalResults` or `strategy_table` rows):
    accuracy [95% CI], the paired difference against the baseline [95% CI] and its
    p-value, cost per sample; ★ marks the Pareto front (on ``cost_axis``)."""
    rows = _rows(results_or_rows, cost)
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


def plot_frontier(
    results_or_rows: Any,
    *,
    accuracy: str = "accuracy",
    cost: str = "auto",
    label: str | None = None,
    path: str | None = None,
    title: str = "accuracy vs cost",
) -> Any:
    """A matplotlib figure: every row a point (with its CI as an error bar when the rows
    have ``ci_low``/``ci_high``), the Pareto front joined and highlighted in red.

    Takes an `EvalResults`, `strategy_table` rows, or any dict rows with `accuracy` and
    a `cost` key (``cost="auto"`` uses the rows' ``cost_axis``, else ``cost``).
    """
    import matplotlib.pyplot as plt

    rows = _rows(results_or_rows, cost)
    if cost == "auto":
        cost = rows[0].get("cost_axis", "cost") if rows else "cost"
    if cost == "usd":
        cost = "cost_usd"
    if label is None:
        keys = rows[0] if rows else {}
        label = next((k for k in ("label", "solver", "strategy") if k in keys), "label")
        if label == "solver" and len({r.get("model") for r in rows}) > 1:
            rows = [{**r, "label": f"{r['model']}/{r['solver']}"} for r in rows]
            label = "label"
    table = frontier_table(rows, accuracy=accuracy, cost=cost)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    # rows at the same point share one marker and one label
    points: dict[tuple[float, float], list[dict[str, Any]]] = {}
    for r in table:
        points.setdefault((r[cost], r[accuracy]), []).append(r)
    xs = [r[cost] for r in table] or [0.0]
    span = (max(xs) - min(xs)) or 1.0
    last_x, last_up = None, False
    for (x, y), group in points.items():
        # labels slant up-right; a point close to the previous one slants down-right
        up = not (last_x is not None and x - last_x < 0.1 * span and last_up)
        last_x, last_up = x, up
        front = any(r["pareto"] for r in group)
        color = "tab:red" if front else "tab:gray"
        first = group[0]
        if "ci_low" in first and "ci_high" in first:
            err = [[max(y - first["ci_low"], 0)], [max(first["ci_high"] - y, 0)]]
            ax.errorbar([x], [y], yerr=err, fmt="none", ecolor=color, alpha=0.5, capsize=3)
        ax.scatter(x, y, s=70 if front else 35, color=color, zorder=3)
        ax.annotate(
            ", ".join(str(r[label]) for r in group),
            (x, y),
            textcoords="offset points",
            xytext=(5, 6) if up else (5, -8),
            rotation=30 if up else -30,
            va="bottom" if up else "top",
            rotation_mode="anchor",
            fontsize=8,
        )
    front_rows = [r for r in table if r["pareto"]]
    ax.plot(
        [r[cost] for r in front_rows],
        [r[accuracy] for r in front_rows],
        color="tab:red",
        linestyle="--",
        label="Pareto front",
        zorder=2,
    )
    tops = [r.get("ci_high", r[accuracy]) for r in table] + [r[accuracy] for r in table]
    top = max([t for t in tops if t is not None] + [0.0])
    ax.set_ylim(-0.05, min(1.1, top * 1.2 + 0.1))
    ax.set_xlim(min(xs) - 0.08 * span, max(xs) + 0.3 * span)
    ax.set_xlabel(COST_AXES.get(cost, cost))
    ax.set_ylabel(f"{accuracy} (95% CI)" if rows and "ci_low" in rows[0] else accuracy)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=100, metadata={"Software": None})
    return fig
