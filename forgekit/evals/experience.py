"""How an experience pool did in an evaluation: hit rate, and the accuracy of hits
against misses, per model and solver (from the `experience` events in the trajectories)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def experience_info(trajectory: str | Path | None) -> dict[str, Any] | None:
    """The `experience` note of one sample's trajectory file (None without one)."""
    if not trajectory or not Path(trajectory).is_file():
        return None
    with open(trajectory, encoding="utf-8") as f:
        for line in f:
            if '"experience"' not in line:
                continue
            event = json.loads(line)
            if event.get("type") == "note" and event.get("kind") == "experience":
                return event.get("data") or {}
    return None


def experience_summary(results: Any) -> Any:
    """One row per model x solver that used a pool: samples, hits, hit_rate, and the mean
    score (accuracy) of hits and of misses, with the mean similarity of hits.

    Args:
        results: EvalResults (or its DataFrame).
    """
    import polars as pl

    df = getattr(results, "df", results)
    rows = []
    for r in df.select(["model", "solver", "score", "trajectory"]).iter_rows(named=True):
        info = experience_info(r["trajectory"])
        if info is None:
            continue
        rows.append(
            {
                "model": r["model"],
                "solver": r["solver"],
                "hit": bool(info.get("hit")),
                "similarity": info.get("similarity"),
                "score": r["score"],
            }
        )
    schema = {
        "model": pl.Utf8,
        "solver": pl.Utf8,
        "hit": pl.Boolean,
        "similarity": pl.Float64,
        "score": pl.Float64,
    }
    per = pl.DataFrame(rows, schema=schema)
    return (
        per.group_by(["model", "solver"], maintain_order=True)
        .agg(
            pl.len().alias("samples"),
            pl.col("hit").sum().alias("hits"),
            pl.col("hit").mean().alias("hit_rate"),
            pl.col("score").filter(pl.col("hit")).mean().alias("accuracy_hits"),
            pl.col("score").filter(~pl.col("hit")).mean().alias("accuracy_misses"),
            pl.col("similarity").filter(pl.col("hit")).mean().alias("similarity_hits"),
        )
        .sort(["model", "solver"])
    )
