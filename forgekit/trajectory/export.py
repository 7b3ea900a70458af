"""Export a run, or a query result, to JSON lines, CSV or Parquet.

Example:
    >>> export_run(Trajectory.load(run_id), "run.csv")                         # doctest: +SKIP
    >>> export_frame(store.query("select * from model_calls"), "calls.jsonl")   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forgekit.trajectory.reader import Trajectory

if TYPE_CHECKING:
    import polars as pl

CSV_COLUMNS = [
    "run_id",
    "parent_run_id",
    "seq",
    "ts",
    "type",
    "summary",
    "alias",
    "name",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "latency_s",
    "status",
    "data",
]


def _format(path: Path, fmt: str | None) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("jsonl", "csv", "parquet"):
        raise ValueError(
            f"cannot export to {path}: format must be jsonl, csv or parquet, not {fmt!r}"
        )
    return fmt


def _summary(d: dict[str, Any]) -> str:
    for key in (
        "text",
        "result",
        "error",
        "answer",
        "observation",
        "action",
        "thought",
        "value",
        "solver",
        "kind",
    ):
        if d.get(key) not in (None, ""):
            return str(d[key])
    return ""


def export_run(
    traj: Trajectory, path: str | Path, fmt: str | None = None, *, children: bool = True
) -> Path:
    """Write a run's events (full model requests included) to `path`.

    JSONL: one event a line, as `forgekit.core.parse_event` reads it. CSV and Parquet:
    one event a row with flat columns (`CSV_COLUMNS`) and the whole event as JSON in
    `data`.
    """
    path = Path(path)
    fmt = _format(path, fmt)
    runs = traj.walk() if children else [traj]
    events = [(t, e.model_dump(mode="json")) for t in runs for e in t.events]
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        import polars as pl

        rows = [_flat(t, d) for t, d in events]
        pl.DataFrame(rows, schema=_schema(), orient="row").write_parquet(path)
        return path
    with path.open("w", encoding="utf-8", newline="") as f:
        if fmt == "jsonl":
            for _, d in events:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
            return path
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for t, d in events:
            w.writerow(_flat(t, d))
    return path


def _flat(t: Trajectory, d: dict[str, Any]) -> dict[str, Any]:
    usage = d.get("usage") or {}
    return {
        "run_id": d["run_id"],
        "parent_run_id": t.parent_run_id,
        "seq": d["seq"],
        "ts": d["ts"],
        "type": d["type"],
        "summary": _summary(d),
        "alias": d.get("alias"),
        "name": d.get("name"),
        "input_tokens": usage.get("input_tokens"),
        "output_tokens": usage.get("output_tokens"),
        "cost_usd": d.get("cost_usd"),
        "latency_s": d.get("latency_s", d.get("duration_s")),
        "status": d.get("status"),
        "data": json.dumps(d, ensure_ascii=False),
    }


def _schema() -> dict[str, Any]:
    import polars as pl

    types = {"seq": pl.Int64, "input_tokens": pl.Int64, "output_tokens": pl.Int64,
             "ts": pl.Float64, "cost_usd": pl.Float64, "latency_s": pl.Float64}
    return {c: types.get(c, pl.Utf8) for c in CSV_COLUMNS}


def export_frame(df: pl.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """Write a polars DataFrame (e.g. a `store.query` result) to JSONL, CSV or Parquet.
    Nested columns are written as JSON text in CSV."""
    import polars as pl

    path = Path(path)
    fmt = _format(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        df.write_parquet(path)
    elif fmt == "jsonl":
        df.write_ndjson(path)
    else:
        nested = [c for c, t in df.schema.items() if isinstance(t, (pl.List, pl.Struct, pl.Array))]
        if nested:
            df = df.with_columns(
                [
                    pl.Series(
                        c,
                        [
                            json.dumps(v.to_list() if isinstance(v, pl.Series) else v, default=str)
                            for v in df[c].to_list()
                        ],
                    )
                    for c in nested
                ]
            )
        df.write_csv(path)
    return path
