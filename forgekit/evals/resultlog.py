"""Results persisted per sample as they finish: an append-only JSONL log (flushed per
line, so a SIGKILL loses nothing that finished) merged into `results.parquet` by writing
a temporary file and renaming it over the old one. The log is never truncated.

Lines appended while an event loop runs are written together at the end of the loop's
step (`append(..., soon=True)`: one system call for a worker's batch of records, not one
per record); the log is flushed before anything reads it and when it closes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from forgekit.evals.sample_result import ResultKey, SampleLine, SampleResult, lines_frame

log = logging.getLogger(__name__)


class ResultLog:
    """The results of one evaluation in `out_dir`."""

    def __init__(self, out_dir: str | Path) -> None:
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.jsonl = self.dir / "results.jsonl"
        self.parquet = self.dir / "results.parquet"
        self._f: Any = None
        self._pending = False  # a flush is scheduled on the running loop

    def load(self) -> dict[ResultKey, SampleResult]:
        """Every result already persisted (merged Parquet, then the log; last wins),
        older logs included. A torn last line (killed mid-write) or a line that is not a
        result is skipped with a warning naming file, line and field: that sample simply
        runs again (the line stays in the log)."""
        out: dict[ResultKey, SampleResult] = {}
        self.flush()
        if self.parquet.exists():
            import polars as pl

            for n, row in enumerate(pl.read_parquet(self.parquet).to_dicts(), start=1):
                rec = self._read(row, self.parquet, n, "row")
                if rec is not None:
                    out[rec.key] = rec
        if self.jsonl.exists():
            with self.jsonl.open(encoding="utf-8") as f:
                for n, line in enumerate(f, start=1):
                    if not line.strip():
                        continue
                    try:
                        data = json.loads(line)
                    except json.JSONDecodeError:
                        log.warning(
                            "%s:%d: unreadable result line skipped (torn write?); "
                            "that sample will run again",
                            self.jsonl,
                            n,
                        )
                        continue
                    rec = self._read(data, self.jsonl, n, "line")
                    if rec is not None:
                        out[rec.key] = rec
        return out

    @staticmethod
    def _read(data: Any, path: Path, n: int, what: str) -> SampleResult | None:
        try:
            return SampleResult.model_validate(data)
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "(the record)"
            log.warning(
                "%s:%d: %s is not a result (field %s: %s); skipped, that sample will run "
                "again", path, n, what, field, err["msg"],
            )
            return None

    def append(self, rec: SampleResult | SampleLine, *, soon: bool = False) -> None:
        """Append one result as a line, flushed at once (a crash loses nothing
        appended) or, with `soon` inside a running event loop, at the end of the loop's
        current step together with every other line appended in it."""
        if self._f is None:
            self._open()
        self._f.write(rec.to_json() + "\n")
        if soon:
            if self._pending:
                return
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop: no step to wait for
                loop = None
            if loop is not None:
                self._pending = True
                loop.call_soon(self.flush)
                return
        self._f.flush()

    def flush(self) -> None:
        """Write what was appended (see `append`)."""
        self._pending = False
        if self._f is not None:
            self._f.flush()

    def _open(self) -> None:
        # a torn last line from a killed run must not glue onto the next record
        if self.jsonl.exists() and self.jsonl.stat().st_size:
            with self.jsonl.open("rb") as f:
                f.seek(-1, os.SEEK_END)
                torn = f.read(1) != b"\n"
        else:
            torn = False
        self._f = self.jsonl.open("a", encoding="utf-8")
        if torn:
            self._f.write("\n")

    def close(self) -> None:
        self._pending = False
        if self._f is not None:
            self._f.close()
            self._f = None

    def merge(self, records: list[SampleResult | SampleLine]) -> Path:
        """Write all records to `results.parquet` atomically (temp file + os.replace)."""
        df = lines_frame([r.to_json() for r in records])
        tmp = self.parquet.with_suffix(".parquet.tmp")
        df.write_parquet(tmp)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.parquet)
        return self.parquet
