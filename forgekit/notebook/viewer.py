"""`EvalViewer`: every sample of an evaluation with each model x solver side by side, the
paired statistics on top, one click to the transcripts.

Live, it is an anywidget (`static/viewer.js`; JupyterLab, VS Code, marimo): the kernel
filters and sorts; the sample table is scroll-virtualised — the browser draws only the
rows in view and asks the kernel for the rows it scrolls to, a window (`chunk` rows) at a
time, so 10,000 samples never reach the browser, nor its DOM, at once. Static,
`export_html()` writes the same front end with every row embedded (and the transcripts
of the first `max_transcripts` rows), a file that works offline; `html()` is the
script-free fallback that papermill keeps and nbval compares.

Example:
    >>> from forgekit.notebook import EvalViewer
    >>> EvalViewer(results)                       # doctest: +SKIP
    >>> EvalViewer(results).export_html("viewer.html")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
from html import escape
from pathlib import Path
from typing import Any

from forgekit.notebook.live import STATIC, LiveView, module_source
from forgekit.notebook.sample_rows import Query, build_rows, run_query, window

STATIC_ROWS = 20  # rows in the script-free fallback
MAX_WINDOW = 1000  # rows one request may ask for


def _float(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) or math.isinf(f) else f


def transcript_state(path: str) -> dict[str, Any]:
    """The inspector's state of one trajectory file (or why there is none)."""
    from forgekit.notebook.transcript import trajectory_state

    if not path:
        return {"error": "no trajectory (the sample did not run)"}
    if not Path(path).exists():
        return {"error": f"trajectory file not found: {path}"}
    from forgekit.trajectory import Trajectory

    try:
        return trajectory_state(Trajectory.load(path), children=True)
    except Exception as e:  # a torn or foreign file is shown as such, not raised
        return {"error": f"cannot read {path}: {type(e).__name__}: {e}"}


class EvalViewer(LiveView):
    """Browse an evaluation's samples, filter to disagreements or failures, open the
    transcripts of two solvers side by side.

    Args:
        results: an `EvalResults` (or an eval folder holding results.parquet).
        baseline: the (model, solver) cell the others are compared against
            (default: the first).
        chunk: rows sent with the state and per window the browser asks for.
        query: initial filter/sort, e.g. ``{"show": "disagree"}`` (see `Query`).
    """

    widget_name = "viewer"
    # the windows of rows and the open transcripts travel apart from the state, so a
    # filter does not resend the transcripts nor a scroll the header
    widget_traits = ("rows", "transcripts")
    replaces_static_html = True  # EvalResults' fallback is the viewer's static form

    def __init__(
        self,
        results: Any,
        *,
        baseline: tuple[str, str] | None = None,
        chunk: int = 100,
        query: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(results, (str, Path)):
            from forgekit.evals.results import EvalResults

            results = EvalResults.load(results)
        self.results = results
        self.baseline = baseline
        self.rows, self.scorers, self._paths = build_rows(results)
        self.chunk = max(1, chunk)
        self.query = Query(**(query or {}))
        self.transcripts: dict[str, Any] | None = None
        self._header = self._build_header()
        self._version = 0  # of the selection; a window asked for an older one is dropped
        self._selected, self._counts = run_query(self.rows, self.query)

    # -- data -----------------------------------------------------------------------------
    def _build_header(self) -> dict[str, Any]:
        r = self.results
        cells = []
        for row in r.summary().iter_rows(named=True):
            cells.append(
                {
                    "label": f"{row['model']}/{row['solver']}",
                    "model": row["model"],
                    "solver": row["solver"],
                    "samples": row["samples"],
                    "errors": row["errors"],
                    "accuracy": _float(row["accuracy"]),
                    "ci_low": _float(row["ci_low"]),
                    "ci_high": _float(row["ci_high"]),
                    "cost_usd": _float(row["cost_usd"]) or 0.0,
                    "tokens": row["tokens"],
                }
            )
        comps = [
            {
                "name": c["name"],
                "baseline": c["baseline"],
                "diff": _float(c["diff"]),
                "ci_low": _float(c["ci_low"]),
                "ci_high": _float(c["ci_high"]),
                "p_value": _float(c["p_value"]),
                "n": c["n"],
                "won": c["won"],
                "lost": c["lost"],
                "significant": c["significant"],
                "reading": c["reading"],
            }
            for c in r.comparisons(self.baseline)
        ]
        suite = r.meta.get("suite", {})
        return {
            "title": suite.get("name") or r.eval_id or "evaluation",
            "eval_id": r.eval_id,
            "cells": cells,
            "comparisons": comps,
            "scorers": self.scorers,
        }

    def select(self) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """All rows the current query selects, in order, and the counts."""
        return self._selected, self._counts

    def window(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Rows `offset` to `offset + limit` of the current selection."""
        return window(self._selected, offset, min(limit, MAX_WINDOW))

    def state(self) -> dict[str, Any]:
        return {
            **self._header,
            "query": self.query.model_dump(),
            "version": self._version,
            "chunk": self.chunk,
            "counts": self._counts,
            "matched": len(self._selected),
            "rows": self._selected[: self.chunk],  # the first window, with the state
        }

    def trait_state(self) -> dict[str, Any]:
        return {"transcripts": self.transcripts or {}}

    # -- actions --------------------------------------------------------------------------
    def set_query(self, **changes: Any) -> None:
        """Change the filter/sort (e.g. ``show="disagree"``); the table scrolls back to
        its top."""
        self.query = Query(**{**self.query.model_dump(), **changes})
        self._selected, self._counts = run_query(self.rows, self.query)
        self._version += 1
        self.refresh(force=True)

    def send_window(self, offset: int, limit: int, version: int) -> None:
        """Answer the browser's request for rows `offset`..`offset + limit` (it scrolled
        there) through the `rows` trait; a request made for an older selection is
        dropped (the browser asks again for the new one)."""
        if version != self._version or self._widget is None:
            return
        self._widget.rows = {
            "version": version,
            "offset": max(0, offset),
            "rows": self.window(offset, limit),
        }

    def open(self, key: str) -> dict[str, Any]:
        """Load the transcripts of sample row `key` ("<sample id>#<epoch>"), one per cell."""
        if key not in self._paths:
            raise KeyError(f"no sample row {key!r}")
        cells = self._header["cells"]
        self.transcripts = {
            "key": key,
            "runs": [
                {"cell": cells[i]["label"], **transcript_state(p)}
                for i, p in enumerate(self._paths[key])
            ],
        }
        self.set_trait("transcripts", self.transcripts)
        return self.transcripts

    def close(self) -> None:
        self.transcripts = None
        self.set_trait("transcripts", {})

    def handle(self, message: dict[str, Any]) -> None:
        action = message.get("action")
        if action == "query":
            changes = {k: v for k, v in message.items() if k != "action"}
            self.set_query(**changes)
        elif action == "rows":
            self.send_window(
                int(message.get("offset", 0)),
                int(message.get("limit", self.chunk)),
                int(message.get("version", -1)),
            )
        elif action == "open":
            self.open(str(message.get("key")))
        elif action == "close":
            self.close()

    # -- static views ---------------------------------------------------------------------
    def html(self) -> str:
        """Script-free HTML: the header, the reading, the first rows (disagreements
        first). Deterministic for the same results, so nbval can compare it."""
        from forgekit.notebook.viewer_html import static_html

        if self.query == Query():  # the selection the viewer opened with
            rows, counts = self._selected, self._counts
        else:
            rows, counts = run_query(self.rows, Query())
        return static_html(self._header, rows[:STATIC_ROWS], counts)

    def export_data(
        self, *, max_transcripts: int = 200, links_from: Path | None = None, virtual: bool = True
    ) -> dict:
        """Everything the static front end needs: header, all rows, the viewer's current
        query (by default: all samples, disagreements first), the transcripts of the
        first `max_transcripts` rows it selects, and for every row relative links to its
        trajectory files. `virtual=False` draws every row at once instead of the rows in
        view (for printing or the browser's find; the scroll benchmark's baseline)."""
        ordered = self._selected
        transcripts = {}
        for row in ordered[:max_transcripts]:
            key = row["key"]
            cells = self._header["cells"]
            transcripts[key] = [
                {"cell": cells[i]["label"], **transcript_state(p)}
                for i, p in enumerate(self._paths[key])
            ]
        links = {}
        for key, paths in self._paths.items():
            links[key] = [
                (os.path.relpath(p, links_from) if links_from else p) if p else ""
                for p in paths
            ]
        return {
            **self._header,
            "query": self.query.model_dump(),
            "chunk": self.chunk,
            "virtual": virtual,
            "rows": self.rows,
            "transcripts": transcripts,
            "links": links,
        }

    def export_fragment(
        self, *, max_transcripts: int = 200, links_from: Path | None = None, virtual: bool = True
    ) -> str:
        """The interactive viewer as an HTML fragment (a div, its CSS, its script with the
        data embedded) to put inside another page, e.g. report.html."""
        data = self.export_data(
            max_transcripts=max_transcripts, links_from=links_from, virtual=virtual
        )
        return interactive_fragment(data)

    def export_html(
        self, path: str | Path, *, max_transcripts: int = 200, virtual: bool = True
    ) -> Path:
        """Write a self-contained, offline HTML page of the viewer; return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = self.export_fragment(
            max_transcripts=max_transcripts, links_from=path.parent, virtual=virtual
        )
        doc = (
            '<!doctype html><html><head><meta charset="utf-8">'
            f"<title>forgekit eval {escape(self._header['title'])}</title></head>"
            f'<body style="margin:1em">{body}</body></html>'
        )
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(doc, encoding="utf-8")
        os.replace(tmp, path)
        return path

    def __repr__(self) -> str:
        return (
            f"EvalViewer({self._header['title']!r}, cells={len(self._header['cells'])}, "
            f"rows={len(self.rows)})"
        )


def interactive_fragment(data: dict[str, Any]) -> str:
    """viewer.js running on embedded data (no kernel, no network)."""
    js = module_source("viewer", esm=False)
    css = (STATIC / "forgekit.css").read_text(encoding="utf-8")
    # "</" never closes the script early; JSON stays valid JSON
    payload = json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/")
    return (
        f"<style>{css}</style>"
        '<div class="fk-viewer-static"></div>'
        f'<script type="application/json" class="fk-viewer-data">{payload}</script>'
        "<script>(function(){\n"
        f"{js}\n"
        "const el = document.currentScript.previousElementSibling.previousElementSibling;\n"
        "const data = JSON.parse(document.currentScript.previousElementSibling.textContent);\n"
        "render({ model: staticModel(data), el });\n"
        "})();</script>"
    )
