"""The eval viewer's data: one row per sample (and epoch) with every model x solver cell
side by side, and the query (filter, search, sort) over those rows.

The same query runs in Python for the live widget (the kernel keeps the selection and
sends the rows the browser scrolls to, a window at a time) and in `static/viewer.js` for
the static export (all rows embedded); the two are kept equal by
tests/notebook/test_viewer.py.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel, ConfigDict

PRIMARY = ""  # the scorer name meaning "the primary score" (the results' `score` column)
SHOWS = ("all", "disagree", "failed", "passed")
SORTS = ("index", "disagree", "failed", "score", "id")


class Query(BaseModel):
    """What the sample table shows: a filter, a text search and a sort."""

    model_config = ConfigDict(extra="forbid")

    show: str = "all"  # all | disagree | failed | passed
    text: str = ""
    scorer: str = PRIMARY
    cell: int | None = None  # score range on this cell (index into the cells)
    lo: float | None = None
    hi: float | None = None
    sort: str = "disagree"  # index | disagree | failed | score | id
    sort_cell: int = 0
    desc: bool = False


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, str):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _scores(raw: str | None) -> list[dict[str, Any]]:
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return []
    return [s for s in items if isinstance(s, dict)]


def build_rows(results: Any) -> tuple[list[dict[str, Any]], list[str], dict[str, list[str]]]:
    """Rows for the viewer from an `EvalResults`.

    Reads the table column by column (no per-row dicts from polars) and parses each
    distinct `scores` text once (10,000 samples repeat a handful).

    Returns:
        (rows, scorers, trajectories): rows in sample order, the scorer names seen, and
        per row key the trajectory file of each cell ("" where there is none).
    """
    import polars as pl

    df = results.df
    cells = results.cells()
    threshold = float(results.meta.get("suite", {}).get("pass_threshold", 1.0))
    index = {c: i for i, c in enumerate(cells)}
    text = pl.col("input").fill_null("") if "input" in df.columns else pl.lit("")
    score = pl.col("score").cast(pl.Float64)
    table = df.select(
        pl.format("{}#{}", "sample_id", "epoch").alias("key"),
        "sample_index", "sample_id", "epoch", text.alias("input"), "target", "model", "solver",
        "scores", "answer", pl.when(score.is_nan()).then(None).otherwise(score).alias("score"),
        "status", "error", pl.col("cost_usd").fill_null(0.0), pl.col("trajectory").fill_null(""),
    )
    rows: dict[str, dict[str, Any]] = {}
    paths: dict[str, list[str]] = {}
    scorers: list[str] = []
    parsed: dict[str | None, tuple[dict[str, float | None], str]] = {}
    width = len(cells)
    for (
        key, sidx, sid, epoch, text_, target, model, solver, raw, answer, value, status, error,
        cost, traj,
    ) in zip(*(table.get_column(c).to_list() for c in table.columns), strict=True):
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "key": key,
                "i": sidx,
                "id": sid,
                "epoch": epoch,
                "input": text_,
                "target": _target(target),
                "cells": [None] * width,
            }
            paths[key] = [""] * width
        hit = parsed.get(raw)
        if hit is None:
            hit = parsed[raw] = _parse_scores(raw, scorers)
        i = index[(model, solver)]
        row["cells"][i] = {
            "answer": answer,
            "score": value,
            "scores": dict(hit[0]),
            "status": status,
            "error": error,
            "note": hit[1],
            "cost": cost,
        }
        paths[key][i] = traj
    out = sorted(rows.values(), key=lambda x: (x["i"], x["epoch"]))
    for row in out:
        row["cells"] = [c or {"status": "missing", "score": None, "scores": {}} for c in row["cells"]]
        row["threshold"] = threshold
    return out, scorers, paths


def _parse_scores(raw: str | None, scorers: list[str]) -> tuple[dict[str, float | None], str]:
    """One `scores` text as {scorer: value} and its note; adds new scorer names to
    `scorers` in the order first seen."""
    scores: dict[str, float | None] = {}
    expl = []
    for s in _scores(raw):
        name = str(s.get("scorer", ""))
        if name not in scorers:
            scorers.append(name)
        scores[name] = _num(s.get("value"))
        note = s.get("error") or s.get("explanation")
        if note:
            expl.append(f"{name}: {note}")
    return scores, " | ".join(expl)


def _target(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str) and len(raw) > 1 and raw[0] == raw[-1] == '"':
        inner = raw[1:-1]
        if "\\" not in inner and '"' not in inner and inner.isprintable():
            return inner  # a JSON string without escapes: itself, unquoted
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return str(raw)
    if value is None:
        return ""
    return " | ".join(map(str, value)) if isinstance(value, list) else str(value)


def cell_score(cell: dict[str, Any], scorer: str) -> float | None:
    """A cell's score under `scorer` (the primary score when scorer is "")."""
    if scorer:
        return (cell.get("scores") or {}).get(scorer)
    return cell.get("score")


def flags(row: dict[str, Any], scorer: str) -> tuple[bool, int]:
    """(disagree, failing cells) of a row under `scorer`."""
    cells = row["cells"]
    threshold = row["threshold"]
    values = set()
    failing = 0
    for c in cells:
        v = (c.get("scores") or {}).get(scorer) if scorer else c.get("score")
        status = c.get("status")
        values.add((status, None if v is None else round(v, 6)))
        if status != "completed" or v is None or v < threshold:
            failing += 1
    return len(cells) > 1 and len(values) > 1, failing


def _matches_text(row: dict[str, Any], needle: str) -> bool:
    hay = [row["id"], row["input"], row["target"]]
    for c in row["cells"]:
        hay += [c.get("answer") or "", c.get("error") or "", c.get("note") or ""]
    return any(needle in str(h).lower() for h in hay)


def run_query(rows: list[dict[str, Any]], q: Query) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The rows `q` selects, sorted (all pages), and counts over all rows."""
    counts = {"all": len(rows), "disagree": 0, "failed": 0, "passed": 0}
    keep = []
    needle = q.text.strip().lower()
    for row in rows:
        disagree, failing = flags(row, q.scorer)
        counts["disagree"] += disagree
        counts["failed"] += failing > 0
        counts["passed"] += failing == 0
        if q.show == "disagree" and not disagree:
            continue
        if q.show == "failed" and not failing:
            continue
        if q.show == "passed" and failing:
            continue
        if q.cell is not None and 0 <= q.cell < len(row["cells"]):
            v = cell_score(row["cells"][q.cell], q.scorer)
            if v is None or (q.lo is not None and v < q.lo) or (q.hi is not None and v > q.hi):
                continue
        if needle and not _matches_text(row, needle):
            continue
        keep.append((row, disagree, failing))

    def sort_key(item: tuple[dict[str, Any], bool, int]) -> tuple[Any, ...]:
        row, disagree, failing = item
        order = (row["i"], row["epoch"])
        if q.sort == "disagree":
            return (0 if disagree else 1, -failing, *order)
        if q.sort == "failed":
            return (-failing, 0 if disagree else 1, *order)
        if q.sort == "score":
            cells = row["cells"]
            v = cell_score(cells[q.sort_cell], q.scorer) if q.sort_cell < len(cells) else None
            return (v is None, v if v is not None else 0.0, *order)
        if q.sort == "id":
            return (row["id"], row["epoch"])
        return order

    keep.sort(key=sort_key)
    if q.desc:
        keep.reverse()
    return [r for r, _, _ in keep], counts


def window(rows: list[dict[str, Any]], offset: int, limit: int) -> list[dict[str, Any]]:
    """Rows `offset` to `offset + limit` of a selection (clamped into range)."""
    offset = max(0, offset)
    return rows[offset : offset + max(0, limit)]
