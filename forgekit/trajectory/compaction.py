"""Compaction: many run files into Parquet tables for fast queries.

Layout under the runs directory::

    <runs_dir>/<run_id>.jsonl                     the records (never modified by compaction)
    <runs_dir>/_compacted/manifest.json           which file went into which part
    <runs_dir>/_compacted/part-00001/<table>.parquet

DuckDB reads the JSON lines (in parallel) and writes the tables (`sqltables.py`).
Compaction is incremental: each call writes one new part holding the runs whose files are
new or changed since the last call. A changed run's older rows stay in their part and are
hidden by the store's views (the manifest names the current part of every run);
`compact(full=True)` rewrites everything into one part.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forgekit.trajectory.tables import TABLES

if TYPE_CHECKING:
    import duckdb

COMPACT_DIR = "_compacted"
MANIFEST = "manifest.json"


@dataclass
class Manifest:
    """What has been compacted: run id -> {file, size, mtime_ns, part}."""

    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    parts: list[str] = field(default_factory=list)
    superseded: bool = False  # some part holds rows of a run that moved to a later part

    @classmethod
    def load(cls, runs_dir: Path) -> Manifest:
        p = runs_dir / COMPACT_DIR / MANIFEST
        if not p.exists():
            return cls()
        data = json.loads(p.read_text(encoding="utf-8"))
        return cls(
            runs=data.get("runs", {}),
            parts=data.get("parts", []),
            superseded=data.get("superseded", False),
        )

    def save(self, runs_dir: Path) -> None:
        p = runs_dir / COMPACT_DIR / MANIFEST
        tmp = p.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "version": 1,
                    "runs": self.runs,
                    "parts": self.parts,
                    "superseded": self.superseded,
                }
            ),
            encoding="utf-8",
        )
        os.replace(tmp, p)  # atomic: a crash leaves the old manifest


def run_files(runs_dir: Path) -> dict[str, os.stat_result]:
    """Run files of a directory: run id -> stat."""
    out = {}
    with os.scandir(runs_dir) as it:
        for entry in it:
            if entry.name.endswith(".jsonl") and entry.is_file():
                out[entry.name[:-6]] = entry.stat()
    return out


def is_current(entry: dict[str, Any] | None, st: os.stat_result) -> bool:
    return entry is not None and entry["size"] == st.st_size and entry["mtime_ns"] == st.st_mtime_ns


def pending_runs(runs_dir: Path, manifest: Manifest) -> dict[str, os.stat_result]:
    """Run files that are not compacted, or changed since they were."""
    return {
        rid: st
        for rid, st in run_files(runs_dir).items()
        if not is_current(manifest.runs.get(rid), st)
    }


@dataclass
class CompactionReport:
    """What one compaction did."""

    part: str | None
    runs: int
    events: int
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.part is None:
            return "nothing to compact"
        return (
            f"compacted {self.runs} runs ({self.events} events) into {self.part} "
            f"in {self.seconds:.2f}s"
        )


def part_files(part_dir: Path, table: str) -> list[Path]:
    """The Parquet files of one table in one part (one per compaction worker)."""
    return sorted(part_dir.glob(f"{table}-*.parquet"))


CHUNK_FILES = 20_000  # run files read by DuckDB in one go (one Parquet file per table)


def write_tables(con: duckdb.DuckDBPyConnection, out_dir: Path, k: int) -> tuple[int, int]:
    """Write the six tables of the loaded raw lines to `<table>-<k>.parquet`."""
    from forgekit.trajectory.sqltables import table_sql

    for name in TABLES:
        target = str(out_dir / f"{name}-{k:03d}.parquet").replace("'", "''")
        con.execute(
            f"copy ({table_sql(name)}) to '{target}' "
            "(format parquet, compression zstd, row_group_size 256000)"
        )
    return _count(con, "select count(distinct file) from _raw"), _count(
        con, "select count(*) from _raw"
    )


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()  # a count always has its one row
    return int(row[0]) if row is not None else 0


def raw_warnings(con: duckdb.DuckDBPyConnection, paths: list[str]) -> list[str]:
    """Files skipped as not trajectories, and files ending in a partial line."""
    read = {r[0] for r in con.execute("select distinct file from _raw").fetchall()}
    out = [f"{p}: not a trajectory (no run_start first); skipped" for p in paths if p not in read]
    out += [
        f"{r[0]}: truncated last line skipped (the writer stopped mid-write)"
        for r in con.execute("select file from _raw_trunc").fetchall()
    ]
    return out


def compact(
    runs_dir: str | Path, *, full: bool = False, chunk_files: int = CHUNK_FILES
) -> CompactionReport:
    """Compact new and changed run files of `runs_dir` into a new Parquet part.

    DuckDB reads the files (in parallel threads) and writes the six tables; files are
    taken `chunk_files` at a time, each chunk giving one `<table>-NNN.parquet` per table.

    Args:
        runs_dir: the directory of run files.
        full: rewrite every run into one fresh part (drops superseded rows).
        chunk_files: run files per chunk (bounds memory on huge directories).
    """
    import duckdb

    from forgekit.trajectory.sqltables import load_raw

    t0 = time.perf_counter()
    runs_dir = Path(runs_dir)
    base = runs_dir / COMPACT_DIR
    base.mkdir(parents=True, exist_ok=True)
    old = Manifest.load(runs_dir)
    manifest = Manifest() if full else Manifest.load(runs_dir)
    todo = pending_runs(runs_dir, manifest)
    if not todo:
        return CompactionReport(None, 0, 0, time.perf_counter() - t0)
    ids = sorted(todo)
    n = max([int(p.split("-")[1]) for p in old.parts] or [0]) + 1
    part = f"part-{n:05d}"
    tmp = base / f".{part}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    paths = [str(runs_dir / f"{rid}.jsonl") for rid in ids]
    n_runs = n_events = 0
    warnings: list[str] = []
    con = duckdb.connect()
    try:
        for k, i in enumerate(range(0, len(paths), chunk_files)):
            chunk = paths[i : i + chunk_files]
            load_raw(con, chunk)
            r, e = write_tables(con, tmp, k)
            n_runs += r
            n_events += e
            warnings += raw_warnings(con, chunk)
    finally:
        con.close()
    os.replace(tmp, base / part)
    if full:
        manifest.parts = [part]
    else:
        manifest.superseded = manifest.superseded or any(rid in manifest.runs for rid in ids)
        manifest.parts.append(part)
    for rid in ids:
        st = todo[rid]
        manifest.runs[rid] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "part": part}
    manifest.save(runs_dir)
    if full:
        for p in old.parts:
            shutil.rmtree(base / p, ignore_errors=True)
    return CompactionReport(part, n_runs, n_events, time.perf_counter() - t0, warnings)
