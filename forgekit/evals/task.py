"""`Task`: samples plus how to score them (scorers, epochs, limits), reusable across
evaluations; and `as_samples`, which turns anything sample-like (a task file, a list of
`Sample`s or dicts, a polars or pandas DataFrame, a `Task`) into samples.

Example:
    >>> task = Task([{"id": "a", "input": "6*7?", "target": "42"}], scorers=["exact"])
    >>> [s.id for s in task.samples]
    ['a']
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from forgekit.core.component import Component
from forgekit.core.errors import ConfigError, DataError
from forgekit.core.samples import Sample

ACCEPTED_TASKS = (
    "a task set file (.jsonl, .csv, .parquet, .yaml), a list of Sample or dicts "
    "(id, input, target, ...), a polars or pandas DataFrame, or a forgekit.Task"
)
_FIELDS = set(Sample.model_fields)


class Task(Component, type="task", kind="task"):
    """Samples and how to score them; hand it to `evaluate` with any solvers.

    Args:
        samples: anything `as_samples` takes (a path, Samples or dicts, a DataFrame).
        scorers: names, ``{type: ...}`` specs, scorer functions or objects (default for
            every evaluation of this task; `evaluate(scorers=...)` overrides them).
        epochs: runs per sample (pass@k needs more than one).
        limits: per-sample limits, ``{"steps": 10, "tokens": 4000, "time_s": 60}``.
        name: the evaluation's name (default: the file's stem, or ``"eval"``).
        limit: only the first `limit` samples.
    """

    def __init__(
        self,
        samples: Any,
        *,
        scorers: Any = None,
        epochs: int = 1,
        limits: Any = None,
        name: str | None = None,
        limit: int | None = None,
    ) -> None:
        from forgekit.evals.limits import Limits

        self.samples, self.source = as_samples(samples, limit=limit)
        self.scorers = scorers
        if not isinstance(epochs, int) or epochs < 1:
            raise ConfigError(f"Task: epochs must be a whole number >= 1, got {epochs!r}",
                              key="epochs")
        self.epochs = epochs
        self.limits = as_limits(limits)
        assert isinstance(self.limits, Limits)
        self.name = name or (Path(self.source).stem if self.source else "eval")

    def config(self) -> dict[str, Any]:
        from forgekit.core.component import TYPE_KEY, VERSION_KEY, to_data

        args = dict(getattr(self, "_component_args", {}))
        args.pop("samples", None)
        if self.source is None:
            args.pop("limit", None)  # inline samples are stored already cut
        # the samples as data: a file stays its path, anything else becomes its rows
        samples: Any = self.source or [
            s.model_dump(mode="json", exclude_defaults=True) for s in self.samples
        ]
        out: dict[str, Any] = {TYPE_KEY: "task", VERSION_KEY: self.schema_version,
                               "samples": samples}
        for key, value in args.items():
            out[key] = to_data(value, where=f"task.{key}")
        return out

    def __repr__(self) -> str:
        return f"Task({self.name!r}, samples={len(self.samples)}, epochs={self.epochs})"


def as_limits(limits: Any) -> Any:
    """Per-sample limits from None, a dict or a `Limits`."""
    from forgekit.evals.limits import Limits

    if limits is None:
        return Limits()
    if isinstance(limits, Limits):
        return limits
    if isinstance(limits, dict):
        try:
            return Limits.model_validate(limits)
        except ValidationError as e:
            first = e.errors()[0]
            raise ConfigError(f"limits: {first['msg']}",
                              key=f"limits.{'.'.join(map(str, first['loc']))}") from None
    raise ConfigError(
        f"limits must be a dict such as {{'steps': 10, 'tokens': 4000, 'time_s': 60}}, "
        f"got {type(limits).__name__}",
        key="limits",
    )


def as_samples(tasks: Any, *, limit: int | None = None) -> tuple[list[Sample], str | None]:
    """The samples `tasks` stands for, and the file they came from (None if not a file).

    Bad rows are all reported at once in a `DataError` naming the row (``tasks[3]``) or
    the file and line; nothing is dropped silently."""
    if isinstance(tasks, Task):
        samples, source = tasks.samples, tasks.source
    elif isinstance(tasks, (str, os.PathLike)):
        samples, source = _from_file(tasks)
    elif isinstance(tasks, (Sample, dict)):
        samples, source = _from_rows([tasks], "tasks"), None
    elif isinstance(tasks, (list, tuple)):
        samples, source = _from_rows(list(tasks), "tasks"), None
    elif _is_frame(tasks, "polars"):
        samples, source = _from_rows(tasks.to_dicts(), "tasks (DataFrame) row"), None
    elif _is_frame(tasks, "pandas"):
        rows = tasks.to_dict(orient="records")
        samples, source = _from_rows(rows, "tasks (DataFrame) row"), None
    else:
        raise ConfigError(
            f"tasks must be {ACCEPTED_TASKS}; got {type(tasks).__name__}", key="tasks"
        )
    if limit is not None:
        if not isinstance(limit, int) or limit < 1:
            raise ConfigError(f"limit must be a whole number >= 1, got {limit!r}", key="limit")
        samples = samples[:limit]
    return list(samples), source


def _is_frame(obj: Any, library: str) -> bool:
    return type(obj).__module__.split(".")[0] == library and hasattr(obj, "columns")


def _from_file(path: str | os.PathLike) -> tuple[list[Sample], str]:
    from forgekit.evals.tasksets import load_samples, resolve_path

    p = resolve_path(path)
    if p.suffix.lower() in (".yaml", ".yml") and p.is_file() and _is_suite(p):
        raise ConfigError(
            f"{p} is an eval suite, not a task set: run it with evaluate({str(path)!r}) "
            "(no solvers argument), or pass its task set file here",
            file=str(p),
        )
    return load_samples(p), str(p)


def _is_suite(path: Path) -> bool:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - the task set loader reports a broken file
        return False
    return isinstance(data, dict) and "solvers" in data


def looks_like_suite(path: Path) -> bool:
    """Whether a YAML file is an eval suite (a mapping with `solvers`) rather than a task
    set; a file that cannot be read counts as a suite (its loader reports why)."""
    import yaml

    from forgekit.evals.tasksets import resolve_path

    try:
        data = yaml.safe_load(resolve_path(path).read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - the loader of whichever it is reports a broken file
        return True
    return not isinstance(data, (list, type(None))) and not (
        isinstance(data, dict) and "samples" in data and "solvers" not in data)


def _clean(value: Any) -> Any:
    # pandas writes missing cells as NaN
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _from_rows(rows: list[Any], where: str) -> list[Sample]:
    problems: list[str] = []
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        label = f"{where}[{i}]"
        sample: Sample | None
        if isinstance(row, Sample):
            sample = row
        elif isinstance(row, dict):
            sample = _row_sample(row, label, problems)
            if sample is None:
                continue
        else:
            problems.append(
                f"{label}: expected a Sample or a dict with 'id' and 'input', "
                f"got {type(row).__name__}"
            )
            continue
        if sample.id in seen:
            problems.append(f"{label}: id: duplicate id {sample.id!r} (first at "
                            f"{where}[{seen[sample.id]}])")
            continue
        seen[sample.id] = i
        samples.append(sample)
    if problems:
        raise DataError(f"{len(problems)} bad sample(s) in tasks", problems=problems)
    if not samples:
        raise DataError("tasks: no samples given")
    return samples


def _row_sample(row: dict[str, Any], label: str, problems: list[str]) -> Sample | None:
    data = {str(k): _clean(v) for k, v in row.items()}
    data = {k: v for k, v in data.items() if v is not None}
    if isinstance(data.get("id"), (int, float)) and not isinstance(data.get("id"), bool):
        data["id"] = str(int(data["id"]) if float(data["id"]).is_integer() else data["id"])
    extra = {k: data.pop(k) for k in list(data) if k not in _FIELDS}
    if extra:  # extra columns (a DataFrame's) are kept as metadata
        data["metadata"] = {**extra, **data.get("metadata", {})}
    missing = [k for k in ("id", "input") if data.get(k) in (None, "", [])]
    if missing:
        for k in missing:
            problems.append(f"{label}: {k}: missing")
        return None
    try:
        return Sample.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(row)"
            problems.append(f"{label}: {key}: {err['msg']}")
        return None
