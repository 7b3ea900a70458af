"""Results persisted per sample as they finish: an append-only JSONL log (flushed per
line, so a SIGKILL loses nothing that finished) merged into `results.parquet` by writing
a temporary file and renaming it over the old one. The log is never truncated."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# statuses that count as finished: a resume does not run them again
FINISHED = ("completed", "failed")
# failures that say nothing about the solver: a resume runs those samples again (a
# provider that was down, rate limits, an alias since added to forgekit.yaml)
TRANSIENT_ERRORS = ("ModelUnavailable:", "UnknownAlias:", "RateLimitError")


def is_transient(rec: dict[str, Any]) -> bool:
    """Whether a failed record failed for a passing reason (retried by a resume)."""
    error = rec.get("error") or ""
    return rec.get("status") == "failed" and (
        error.startswith(TRANSIENT_ERRORS[:2]) or TRANSIENT_ERRORS[2] in error
    )


def record_key(rec: dict[str, Any]) -> tuple[str, str, str, int]:
    return (rec["model"], rec["solver"], rec["sample_id"], int(rec["epoch"]))


class ResultLog:
    """The results of one evaluation in `out_dir`."""

    def __init__(self, out_dir: str | Path) -> None:
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.jsonl = self.dir / "results.jsonl"
        self.parquet = self.dir / "results.parquet"
        self._f: Any = None

    def load(self) -> dict[tuple[str, str, str, int], dict[str, Any]]:
        """Every record already persisted (merged Parquet, then the log; last wins). A
        torn last line (killed mid-write) is skipped: that sample simply runs again."""
        out: dict[tuple[str, str, str, int], dict[str, Any]] = {}
        if self.parquet.exists():
            import polars as pl

            for rec in pl.read_parquet(self.parquet).to_dicts():
                out[record_key(rec)] = rec
        if self.jsonl.exists():
            with self.jsonl.open(encoding="utf-8") as f:
                for n, line in enumerate(f, start=1):
                    if not line.strip():
                        continue
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        log.warning(
                            "%s:%d: unreadable result line skipped (torn write?); "
                            "that sample will run again",
                            self.jsonl,
                            n,
                        )
                        continue
                    out[record_key(rec)] = rec
        return out

    def append(self, rec: dict[str, Any]) -> None:
        if self._f is None:
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
        self._f.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
        self._f.flush()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None

    def merge(self, records: list[dict[str, Any]]) -> Path:
        """Write all records to `results.parquet` atomically (temp file + os.replace)."""
        import polars as pl

        from forgekit.evals.results import result_schema

        df = pl.DataFrame(records, schema=result_schema(), strict=False)
        tmp = self.parquet.with_suffix(".parquet.tmp")
        df.write_parquet(tmp)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.parquet)
        return self.parquet
