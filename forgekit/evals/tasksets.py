"""Task sets: load samples from JSONL, CSV, Parquet or YAML with a schema check that
reports every bad row (file and line), never dropping one silently."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from forgekit.core.errors import DataError
from forgekit.core.samples import Sample

FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".yaml": "yaml",
    ".yml": "yaml",
}
_SAMPLE_FIELDS = set(Sample.model_fields)
# a sample (one row of a task set) larger than this is an error naming it (the default
# of `load_samples(max_sample_bytes=...)` and of a suite's `taskset.max_sample_bytes`)
MAX_SAMPLE_BYTES = 1_000_000
_BOM = b"\xef\xbb\xbf"


def read_text(path: Path) -> str:
    """A file's text as UTF-8 (a leading BOM is accepted); anything else is a DataError
    naming the byte offset, line and column of the first bad byte."""
    data = path.read_bytes()
    body = data[len(_BOM):] if data.startswith(_BOM) else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        offset = e.start + (len(data) - len(body))
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        raise DataError(
            f"{path}:{line}: not UTF-8: byte 0x{data[offset]:02x} at offset {offset} "
            f"(line {line}, column {column}); save the file as UTF-8"
        ) from None


def repo_root() -> Path:
    """The checkout root (where `datasets/` and `evals/` live)."""
    return Path(__file__).resolve().parents[2]


def resolve_path(path: str | os.PathLike[str], *, base: Path | None = None) -> Path:
    """Find a task file: absolute, relative to `base` (a suite's folder), the cwd, or the
    checkout root (so `datasets/arithmetic/arithmetic.jsonl` works from anywhere)."""
    p = Path(path)
    if p.is_absolute():
        return p
    for root in [base, Path.cwd(), repo_root()]:
        if root is not None and (root / p).exists():
            return (root / p).resolve()
    return (base or Path.cwd()) / p


def _to_sample(row: Any, where: str, problems: list[str]) -> Sample | None:
    if not isinstance(row, dict):
        problems.append(
            f"{where}: expected an object with 'id' and 'input', got {type(row).__name__}"
        )
        return None
    row = dict(row)
    if isinstance(row.get("id"), int) and not isinstance(row.get("id"), bool):
        row["id"] = str(row["id"])
    bad = False
    if row.get("id") in (None, ""):
        problems.append(f"{where}: id: missing")
        bad = True
    if row.get("input") in (None, "", []):
        problems.append(f"{where}: input: missing or empty")
        bad = True
    if bad:
        return None
    try:
        return Sample.model_validate(row)
    except ValidationError as e:
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(row)"
            msg = "unknown field (typo?)" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{where}: {key}: {msg}")
        return None


def _read_jsonl(
    path: Path, problems: list[str], max_bytes: int | None = None
) -> list[tuple[str, Any]]:
    rows = []
    max_bytes = max_bytes or MAX_SAMPLE_BYTES
    # split on newlines only: a JSON string may hold U+2028 and friends unescaped
    for n, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        if len(line) * 4 > max_bytes and len(line.encode()) > max_bytes:
            problems.append(_too_big(f"{path}:{n}", len(line.encode()), max_bytes))
            continue
        try:
            rows.append((f"{path}:{n}", json.loads(line)))
        except json.JSONDecodeError as e:
            problems.append(f"{path}:{n}: invalid JSON: {e.msg} (column {e.colno})")
    return rows


def _csv_cell(key: str, value: str) -> Any:
    if value == "":
        return None
    if key in ("choices", "target") and value.startswith("["):
        return json.loads(value)
    if key == "choices":
        return [c.strip() for c in value.split("|")]
    if key in ("metadata", "files"):
        return json.loads(value)
    return value


def _too_big(where: str, size: int, limit: int) -> str:
    return (f"{where}: sample is {size:,} bytes, over the limit of {limit:,} "
            "(taskset.max_sample_bytes in a suite; load_samples(max_sample_bytes=...))")


def _read_csv(path: Path, problems: list[str]) -> list[tuple[str, Any]]:
    rows = []
    with io.StringIO(read_text(path), newline="") as f:
        reader = csv.DictReader(f)
        width = len(reader.fieldnames or [])
        line = reader.line_num + 1
        for raw in reader:
            where = f"{path}:{line}"
            line = reader.line_num + 1
            row: dict[str, Any] = {}
            extra: dict[str, Any] = {}
            if None in raw.values() or None in raw:  # a ragged row: cells shifted or lost
                cells = sum(v is not None for k, v in raw.items() if k is not None) + len(
                    raw.get(None) or [])
                problems.append(
                    f"{where}: {cells} cell(s) but the header has {width} column(s) "
                    f"({', '.join(reader.fieldnames or [])}); quote cells that hold commas"
                )
                continue
            try:
                for key, value in raw.items():
                    cell = _csv_cell(key, value or "")
                    if key in _SAMPLE_FIELDS:
                        if cell is not None:
                            row[key] = cell
                    elif cell is not None:
                        extra[key] = cell
            except json.JSONDecodeError as e:
                problems.append(f"{where}: {key}: invalid JSON: {e.msg}")
                continue
            if extra:
                row["metadata"] = {**extra, **row.get("metadata", {})}
            rows.append((where, row))
    return rows


def _read_parquet(path: Path, problems: list[str]) -> list[tuple[str, Any]]:
    import polars as pl

    try:
        df = pl.read_parquet(path)
    except Exception as e:  # polars raises ComputeError/OSError/... on a damaged file
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"{path}: not a readable Parquet file ({first})") from None
    rows = []
    for i, raw in enumerate(df.iter_rows(named=True), start=1):
        row = {k: v for k, v in raw.items() if v is not None}
        extra = {k: row.pop(k) for k in list(row) if k not in _SAMPLE_FIELDS}
        for key in ("metadata", "files"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
        if extra:
            row["metadata"] = {**extra, **row.get("metadata", {})}
        rows.append((f"{path}: row {i}", row))
    return rows


def _read_yaml(path: Path, problems: list[str]) -> list[tuple[str, Any]]:
    from forgekit.core.yamlfile import load_yaml

    doc = load_yaml(path)
    data = doc.data
    root: tuple = ()
    if isinstance(data, dict) and "samples" in data:
        data, root = data["samples"], ("samples",)
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a list of samples (or a 'samples:' list)")
    return [(f"{path}:{doc.line_of(root + (i,))}", row) for i, row in enumerate(data)]


_READERS = {"jsonl": _read_jsonl, "csv": _read_csv, "parquet": _read_parquet, "yaml": _read_yaml}


def load_samples(
    path: str | Path,
    *,
    limit: int | None = None,
    base: Path | None = None,
    max_sample_bytes: int | None = None,
) -> list[Sample]:
    """Load a task set file into samples.

    Every bad row is reported at once in a `DataError` whose `problems` name the file and
    line (or Parquet row); duplicate ids are problems too. Nothing is dropped silently.

    Example:
        >>> samples = load_samples("datasets/arithmetic/arithmetic.jsonl", limit=3)
        >>> len(samples)
        3
    """
    p = resolve_path(path, base=base)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise DataError(
            f"{p}: unknown task set format {p.suffix!r}; use one of {sorted(set(FORMATS))}"
        )
    if not p.exists():
        raise DataError(f"{p}: task set file not found")
    problems: list[str] = []
    max_bytes = max_sample_bytes or MAX_SAMPLE_BYTES
    if fmt == "jsonl":
        rows = _read_jsonl(p, problems, max_bytes)
    else:
        rows = _READERS[fmt](p, problems)
    samples: list[Sample] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        if fmt != "jsonl" and len(json.dumps(row, default=str)) > max_bytes:
            problems.append(_too_big(where, len(json.dumps(row, default=str).encode()),
                                     max_bytes))
            continue
        s = _to_sample(row, where, problems)
        if s is None:
            continue
        if s.id in seen:
            problems.append(f"{where}: id: duplicate id {s.id!r} (first at {seen[s.id]})")
            continue
        seen[s.id] = where
        samples.append(s)
    if problems:
        raise DataError(f"{p}: {len(problems)} bad row(s) in task set", problems=problems)
    if not samples:
        raise DataError(f"{p}: task set is empty")
    return samples[:limit] if limit is not None else samples


def locate_sample(path: str | Path, sample_id: str) -> str | None:
    """'file:line' (or 'file: row N') where the sample with this id is, or None."""
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None or not p.exists():
        return None
    try:
        rows = _READERS[fmt](p, [])
    except Exception:  # noqa: BLE001 - only a locator for an error message
        return None
    for where, row in rows:
        if isinstance(row, dict) and str(row.get("id")) == str(sample_id):
            return where
    return None
