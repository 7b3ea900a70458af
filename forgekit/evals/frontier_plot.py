"""The accuracy-vs-cost plot: one renderer for every place that draws it.

Every row is a point (its CI as an error bar when the rows have ``ci_low``/``ci_high``),
the Pareto front joined and highlighted in red. `plot_frontier` returns a pyplot figure
(a notebook shows it), `frontier_image` PNG or SVG bytes from a bare Agg canvas (a
notebook's own backend is left alone): `EvalResults.plot()`, the HTML report and the
live dashboard use it.

Rows are `strategy_table` rows, or any dicts with an accuracy and a cost key (rows
missing either are left out of the plot).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from forgekit.evals.frontier import COST_AXES, as_rows, frontier_table, pick_cost_axis

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from forgekit.evals.results import EvalResults

FIGSIZE = (7.0, 4.2)


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _prepare(
    results_or_rows: EvalResults | Sequence[dict[str, Any]], accuracy: str, cost: str,
    label: str | None,
) -> tuple[list[dict[str, Any]], str, str]:
    """(plottable rows, cost key, label key)."""
    rows = as_rows(results_or_rows, cost)
    if cost == "auto":
        cost = rows[0].get("cost_axis") or pick_cost_axis(rows) if rows else "cost_usd"
    cost = pick_cost_axis(rows, cost) if cost in (*COST_AXES, "usd") else cost
    if label is None:
        keys = rows[0] if rows else {}
        label = next((k for k in ("label", "solver", "strategy") if k in keys), "label")
        if label == "solver" and len({r.get("model") for r in rows}) > 1:
            rows = [{**r, "label": f"{r['model']}/{r['solver']}"} for r in rows]
            label = "label"
    plottable = []
    for r in rows:
        a, c = _num(r.get(accuracy)), _num(r.get(cost))
        if a is not None and c is not None:
            plottable.append({**r, accuracy: a, cost: c})
    return plottable, cost, label


def draw_frontier(
    ax: Axes,
    rows: Sequence[dict[str, Any]],
    *,
    accuracy: str = "accuracy",
    cost: str = "cost_usd",
    label: str = "label",
    title: str = "accuracy vs cost",
    cost_label: str | None = None,
) -> None:
    """Draw accuracy against `cost` on `ax`: rows at the same point share a marker and a
    label; the Pareto front in red, joined by a dashed line."""
    table = frontier_table(rows, accuracy=accuracy, cost=cost)
    points: dict[tuple[float, float], list[dict[str, Any]]] = {}
    for r in table:
        points.setdefault((r[cost], r[accuracy]), []).append(r)
    xs = [r[cost] for r in table] or [0.0]
    span = (max(xs) - min(xs)) or (abs(max(xs)) or 1.0)
    last_x, last_up = None, False
    for (x, y), group in points.items():
        # labels slant up-right; a point close to the previous one slants down-right
        up = not (last_x is not None and x - last_x < 0.1 * span and last_up)
        last_x, last_up = x, up
        front = any(r["pareto"] for r in group)
        color = "tab:red" if front else "tab:gray"
        first = group[0]
        lo, hi = _num(first.get("ci_low")), _num(first.get("ci_high"))
        if lo is not None and hi is not None:
            err = [[max(y - lo, 0)], [max(hi - y, 0)]]
            ax.errorbar([x], [y], yerr=err, fmt="none", ecolor=color, alpha=0.5, capsize=3)
        ax.scatter(x, y, s=70 if front else 35, color=color, zorder=3)
        ax.annotate(
            ", ".join(str(r.get(label, "")) for r in group),
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
    tops = [_num(r.get("ci_high")) for r in table] + [r[accuracy] for r in table]
    top = max([t for t in tops if t is not None] + [0.0])
    ax.set_ylim(-0.05, min(1.1, top * 1.2 + 0.1))
    ax.set_xlim(min(xs) - 0.08 * span, max(xs) + 0.3 * span)
    ax.set_xlabel(cost_label or COST_AXES.get(cost, cost))
    has_ci = any(_num(r.get("ci_low")) is not None for r in table)
    ax.set_ylabel(f"{accuracy} (95% CI)" if has_ci else accuracy)
    ax.set_title(title, fontsize=10)
    if front_rows:
        ax.legend(loc="upper right")
    ax.grid(alpha=0.3)


def plot_frontier(
    results_or_rows: EvalResults | Sequence[dict[str, Any]],
    *,
    accuracy: str = "accuracy",
    cost: str = "auto",
    label: str | None = None,
    path: str | None = None,
    title: str = "accuracy vs cost",
) -> Figure:
    """A matplotlib (pyplot) figure of accuracy against cost, the Pareto front in red.

    Takes an `EvalResults`, `strategy_table` rows, or any dict rows with `accuracy` and
    a `cost` key (``cost="auto"`` uses the rows' ``cost_axis``, else ``cost``); `path`
    also saves it as an image.
    """
    import matplotlib.pyplot as plt

    rows, cost, label = _prepare(results_or_rows, accuracy, cost, label)
    fig, ax = plt.subplots(figsize=FIGSIZE)
    draw_frontier(ax, rows, accuracy=accuracy, cost=cost, label=label, title=title)
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=100, metadata={"Software": None})
    return fig


def frontier_image(
    results_or_rows: EvalResults | Sequence[dict[str, Any]],
    *,
    format: str = "png",
    accuracy: str = "accuracy",
    cost: str = "auto",
    label: str | None = None,
    title: str = "accuracy vs cost",
    cost_label: str | None = None,
    size: tuple[float, float] = FIGSIZE,
) -> bytes:
    """The same plot as PNG or SVG bytes, drawn without pyplot. The SVG keeps its text
    as text (searchable, scalable) and is the same bytes for the same rows."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if format not in ("png", "svg"):
        raise ValueError(f"format must be png or svg, not {format!r}")
    rows, cost, label = _prepare(results_or_rows, accuracy, cost, label)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "forgekit"}):
        fig = Figure(figsize=size, dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        draw_frontier(ax, rows, accuracy=accuracy, cost=cost, label=label, title=title,
                      cost_label=cost_label)
        fig.tight_layout()
        buf = io.BytesIO()
        meta = {"Software": None} if format == "png" else {"Date": None, "Creator": None}
        fig.savefig(buf, format=format, metadata=meta)
    return buf.getvalue()


def frontier_svg(rows: Sequence[dict[str, Any]], **kwargs: Any) -> str:
    """The plot as an inline `<svg class="fk-plot">` element (no XML prolog), for HTML."""
    text = frontier_image(rows, format="svg", **kwargs).decode("utf-8")
    text = text[text.index("<svg"):]
    return text.replace("<svg", '<svg class="fk-plot"', 1)


__all__ = ["draw_frontier", "frontier_image", "frontier_svg", "plot_frontier"]
