"""`TrajectoryStore`: a directory of runs, listed, loaded and queried with DuckDB.

Example:
    >>> store = TrajectoryStore(".forgekit/runs")                              # doctest: +SKIP
    >>> store.query("select alias, sum(cost_usd) from model_calls group by 1")  # doctest: +SKIP
    >>> store.stats(by="model")                                                # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from forgekit.trajectory.compaction import (
    COMPACT_DIR,
    MANIFEST,
    CompactionReport,
    Manifest,
    compact,
    part_files,
    pending_runs,
    raw_warnings,
)
from forgekit.trajectory.queries import (
    batch_stats,
    cost_by_model,
    failure_reasons,
    latency_percentiles,
    steps_per_run,
)
from forgekit.trajectory.reader import Trajectory, default_runs_dir
from forgekit.trajectory.sqltables import frame, load_raw, table_sql
from forgekit.trajectory.tables import TABLES


class TrajectoryStore:
    """All runs of a directory: compacted Parquet parts plus not-yet-compacted JSONL files.

    Queries see six views — `runs`, `events`, `model_calls`, `tool_calls`, `steps`,
    `scores` (schemas in docs/trajectories.md) — over both, so a query never misses a run.
    """

    def __init__(self, runs_dir: str | Path | None = None) -> None:
        self.runs_dir = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        self.warnings: list[str] = []
        self._manifest: tuple[tuple[int, int] | None, Manifest] | None = None
        self._last_state: tuple[Manifest, dict[str, os.stat_result]] | None = None

    # -- runs --------------------------------------------------------------------------
    def load(self, run_id: str) -> Trajectory:
        """One run (with its children) by id."""
        return Trajectory.load(run_id, self.runs_dir)

    def run_ids(self) -> list[str]:
        if not self.runs_dir.exists():
            return []
        return sorted(p.name[:-6] for p in os.scandir(self.runs_dir) if p.name.endswith(".jsonl"))

    def runs(
        self,
        *,
        solver: str | None = None,
        status: str | None = None,
        model: str | None = None,
        sample_id: str | None = None,
        parent_run_id: str | None = None,
        top_level: bool = False,
        tags: dict[str, str] | None = None,
        limit: int | None = None,
        superseded: bool = True,
    ) -> Any:
        """The runs table (a polars DataFrame, newest first), filtered.

        Args:
            solver, status, model, sample_id, parent_run_id: keep rows equal to these.
            top_level: only runs without a parent.
            tags: keep runs whose tags include all of these.
            limit: at most this many rows.
            superseded: keep runs a crash interrupted and a resume ran again
                (`forgekit.trajectory.leftovers`).
        """
        import polars as pl

        df = self.table("runs")
        for col, val in [
            ("solver", solver),
            ("status", status),
            ("model", model),
            ("sample_id", sample_id),
            ("parent_run_id", parent_run_id),
        ]:
            if val is not None:
                df = df.filter(pl.col(col) == val)
        if top_level:
            df = df.filter(pl.col("parent_run_id").is_null())
        if not superseded:
            from forgekit.trajectory.leftovers import SUPERSEDED

            df = df.filter(~pl.col("stop_reason").fill_null("").str.starts_with(SUPERSEDED))
        if tags:
            import json

            keep = [
                all(json.loads(t or "{}").get(k) == v for k, v in tags.items())
                for t in df["tags"].to_list()
            ]
            df = df.filter(pl.Series(keep, dtype=pl.Boolean))
        df = df.sort("started_at", descending=True, nulls_last=True)
        return df.head(limit) if limit is not None else df

    def table(self, name: str) -> Any:
        """One whole table as a polars DataFrame."""
        if name not in TABLES:
            raise ValueError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
        return self.query(f"select * from {name}")

    # -- compaction and queries ----------------------------------------------------------
    def compact(self, *, full: bool = False) -> CompactionReport:
        """Compact new and changed run files into Parquet (see `compaction.compact`)."""
        return compact(self.runs_dir, full=full)

    def _state(self, fresh: bool = True) -> tuple[Manifest, dict[str, os.stat_result]]:
        """The manifest (re-read only when its file changed) and the run files that are not
        compacted; `fresh=False` reuses the last check of the files."""
        if not fresh and self._last_state is not None:
            return self._last_state
        if not self.runs_dir.exists():
            return Manifest(), {}
        mpath = self.runs_dir / COMPACT_DIR / MANIFEST
        try:
            st = mpath.stat()
            key: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            key = None
        if self._manifest is None or self._manifest[0] != key:
            self._manifest = (key, Manifest.load(self.runs_dir))
        manifest = self._manifest[1]
        self._last_state = (manifest, pending_runs(self.runs_dir, manifest))
        return self._last_state

    def connect(self, tables: list[str] | None = None, *, fresh: bool = True) -> Any:
        """A DuckDB connection with the views registered (all six, or those named).

        Args:
            tables: the views to create (default: all six).
            fresh: check every run file for changes (default). False reuses the last
                check: faster on directories of many thousands of runs.
        """
        import duckdb
        import pyarrow as pa

        con = duckdb.connect()
        manifest, pending = self._state(fresh)
        base = self.runs_dir / COMPACT_DIR
        load_raw(con, [str(self.runs_dir / f"{rid}.jsonl") for rid in sorted(pending)])
        if pending:
            for w in raw_warnings(con, [str(self.runs_dir / f"{r}.jsonl") for r in pending]):
                if w not in self.warnings:
                    self.warnings.append(w)
        stale = [rid for rid in pending if rid in manifest.runs]
        if stale:
            con.register("_stale", pa.table({"run_id": stale}))
        if manifest.superseded:
            con.register(
                "_current",
                pa.table(
                    {
                        "run_id": list(manifest.runs),
                        "part": [v["part"] for v in manifest.runs.values()],
                    }
                ),
            )
        for name in tables or TABLES:
            live = table_sql(name)
            files = [str(f) for p in manifest.parts for f in part_files(base / p, name)]
            if not files:
                con.execute(f"create view {name} as {live}")
                continue
            flist = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
            if manifest.superseded:
                src = (
                    f"(select t.* exclude (filename) from read_parquet({flist}, "
                    f"filename=true) t semi join _current c on t.run_id = c.run_id "
                    f"and regexp_extract(t.filename, '(part-[0-9]+)', 1) = c.part)"
                )
            else:
                src = f"read_parquet({flist})"
            where = " where run_id not in (select run_id from _stale)" if stale else ""
            sql = f"select * from {src}{where}"
            if pending:
                sql += f" union all by name select * from ({live})"
            con.execute(f"create view {name} as {sql}")
        return con

    def query(self, sql: str, params: list[Any] | None = None, *, fresh: bool = True) -> Any:
        """Run SQL over the views; returns a polars DataFrame (see `connect` for `fresh`)."""
        used = [t for t in TABLES if re.search(rf"\b{t}\b", sql, re.I)]
        con = self.connect(used or None, fresh=fresh)
        try:
            return frame(con, sql, params)
        finally:
            con.close()

    # -- helpers -------------------------------------------------------------------------
    def stats(self, by: str | list[str] = "model", *, top_level: bool = True) -> Any:
        """Batch statistics per group (see `queries.batch_stats`)."""
        return batch_stats(self, by=by, top_level=top_level)

    def cost_by_model(self) -> Any:
        return cost_by_model(self)

    def latency_percentiles(self, by: str = "alias") -> Any:
        return latency_percentiles(self, by=by)

    def failure_reasons(self) -> Any:
        return failure_reasons(self)

    def steps_per_run(self) -> Any:
        return steps_per_run(self)

    def _repr_html_(self) -> str:
        from forgekit.trajectory.view import store_html

        return store_html(self)

    def __repr__(self) -> str:
        return f"TrajectoryStore({str(self.runs_dir)!r})"
