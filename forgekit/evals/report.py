"""Views of evaluation results: the HTML summary shown in notebooks and the
self-contained HTML report (its accuracy-vs-cost plot is `forgekit.evals.frontier_plot`'s)."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import Any

from forgekit.core.html_table import table_html


def summary_html(results: Any) -> str:
    """Summary and comparison tables (what a notebook cell shows)."""
    parts = [f"<h4>evaluation {html.escape(results.eval_id)}</h4>", table_html(results.summary())]
    if len(results.cells()) > 1:
        parts += ["<h4>paired comparison</h4>", table_html(results.compare())]
        parts += [f"<p>{html.escape(c['reading'])}</p>" for c in results.comparisons()]
    return "<div>" + "".join(parts) + "</div>"


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
.fk-table{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}
.fk-table th,.fk-table td{border:1px solid #ccc;padding:3px 8px;text-align:left;
vertical-align:top;max-width:420px;overflow-wrap:anywhere}
.fk-table th{background:#f3f3f3}
.fk-reading,.fk-note{max-width:900px;text-align:left}"""


_STATS_NOTE = (
    "<p class=\"fk-note\">The 95% CI is a paired bootstrap over samples; the p-value is an exact "
    "sign-flip (permutation) test on the per-sample differences. On few samples they can "
    "disagree: the bootstrap interval runs narrow, while the test can only use the samples "
    "whose scores differ (with k of them, p cannot go below 2/2<sup>k</sup>). "
    "Trust the test, and evaluate more samples.</p>"
)


def write_report(results: Any, path: str | Path) -> Path:
    """A self-contained HTML report: summary, comparison, the plot (embedded PNG),
    every sample with its answer, score, explanation and a link to its trajectory."""
    import json

    import polars as pl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from forgekit.evals.frontier_plot import frontier_image

    png = base64.b64encode(frontier_image(results)).decode("ascii")
    meta = results.meta
    suite = meta.get("suite", {})

    def explain(scores: str) -> str:
        try:
            items = json.loads(scores or "[]")
        except ValueError:
            return ""
        return " | ".join(
            f"{s.get('scorer')}: {s.get('error') or s.get('explanation') or ''}" for s in items
        )

    df = results.df.with_columns(
        pl.col("scores").map_elements(explain, return_dtype=pl.Utf8).alias("explanation"),
        pl.col("trajectory")
        .map_elements(
            lambda p: os.path.relpath(p, path.parent) if p else None, return_dtype=pl.Utf8
        )
        .alias("trajectory"),
    ).select(
        "model",
        "solver",
        "sample_id",
        "epoch",
        "status",
        "score",
        *(["input"] if "input" in results.df.columns else []),
        "answer",
        "target",
        "explanation",
        "error",
        "cost_usd",
        "latency_s",
        "trajectory",
    )
    from forgekit.core.display import export_fragment

    try:
        viewer = export_fragment(results, links_from=path.parent)
    except Exception as e:  # the report is still written, with the plain table
        viewer = None
        import logging

        logging.getLogger(__name__).warning("report: no interactive viewer: %s", e)
    readings = "".join(
        f"<p class=\"fk-reading\">{html.escape(c['reading'])}</p>" for c in results.comparisons()
    )
    samples = table_html(
        df, links={"trajectory": "{trajectory}"}, max_rows=5000, limit=None, css_class="fk-table"
    )
    if viewer:
        samples = (
            f"{viewer}<details><summary>every sample as a plain table</summary>"
            f"{samples}</details>"
        )
    tracking = "".join(
        f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in results.tracking.items()
    )
    doc = f"""<!doctype html><html><head><meta charset="utf-8">
<title>forgekit eval {html.escape(results.eval_id)}</title><style>{_CSS}</style></head><body>
<h1>Evaluation {html.escape(suite.get("name", ""))}</h1>
<p>{html.escape(suite.get("description", ""))}</p>
<ul><li>eval id: {html.escape(results.eval_id)}</li>
<li>suite hash: {html.escape(meta.get("suite_hash", ""))}</li>
<li>task set: {html.escape(str(suite.get("taskset", {}).get("path", "")))}</li>
<li>epochs: {suite.get("epochs", 1)}, seed: {suite.get("seed", 0)}</li>{tracking}</ul>
<h2>Summary</h2>{table_html(results.summary(), css_class="fk-table")}
{"<h2>Paired comparison</h2>" + table_html(results.compare(), css_class="fk-table")
   + readings + _STATS_NOTE
   if len(results.cells()) > 1 else ""}
<h2>Accuracy vs cost</h2><img alt="accuracy vs cost" src="data:image/png;base64,{png}">
<h2>Samples</h2>{samples}
<h2>Suite config</h2><pre>{html.escape(json.dumps(suite, indent=2))}</pre>
</body></html>"""
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)
    return path
