"""Accuracy against cost: the Pareto front of strategies, as a table and a plot.

A row is one (strategy, model) measured on a task set: its accuracy and what it cost
(USD, calls or tokens). A row is on the front when no other row is at least as accurate
for at most the same cost and strictly better in one of the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


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


def plot_frontier(
    rows: Sequence[dict[str, Any]],
    *,
    accuracy: str = "accuracy",
    cost: str = "cost",
    label: str = "strategy",
    path: str | None = None,
    title: str = "accuracy vs cost",
) -> Any:
    """A matplotlib figure: every row a point, the Pareto front joined and highlighted."""

    import matplotlib.pyplot as plt

    table = frontier_table(rows, accuracy=accuracy, cost=cost)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    # rows at the same point share one marker and one label
    points: dict[tuple[float, float], list[dict[str, Any]]] = {}
    for r in table:
        points.setdefault((r[cost], r[accuracy]), []).append(r)
    for k, ((x, y), group) in enumerate(points.items()):
        front = any(r["pareto"] for r in group)
        ax.scatter(x, y, s=70 if front else 35, color="tab:red" if front else "tab:gray", zorder=3)
        ax.annotate(
            ", ".join(str(r[label]) for r in group),
            (x, y),
            textcoords="offset points",
            xytext=(6, 5 if k % 2 == 0 else -12),
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
    top = max([r[accuracy] for r in table] + [0.0])
    ax.set_ylim(-0.05 * max(top, 0.2), top * 1.25 + 0.05)
    xs = [r[cost] for r in table] or [0.0]
    ax.set_xlim(min(xs) - 0.5, max(xs) * 1.25 + 0.5)
    ax.set_xlabel(cost)
    ax.set_ylabel(accuracy)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=100)
    return fig
