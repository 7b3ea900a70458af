"""The record of one pipeline run and the runs log (JSON lines, one record per attempt)."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RunState = Literal["completed", "failed", "timeout", "interrupted", "skipped"]
Trigger = Literal[
    "manual", "schedule", "missed", "queued", "watch", "webhook", "after", "when_up"
]

RUNS_LOG = "runs.jsonl"


def runs_log_path(job: Any) -> Path:
    """Where a job's run records go: ``runs.jsonl`` in its runs folder."""
    return job.runs_root() / RUNS_LOG


class CellFailure(BaseModel):
    """The record of where and how a notebook failed: the failing cell and its exception
    (a record, not an exception; `CellError` is its older name)."""

    model_config = ConfigDict(extra="forbid")

    cell_index: int | None = None  # index in the executed notebook (papermill's)
    exec_count: int | None = None
    ename: str = ""
    evalue: str = ""
    source: str | None = None

    def describe(self) -> str:
        where = f"cell {self.cell_index}" if self.cell_index is not None else "the run"
        first = (self.source or "").strip().splitlines()[:1]
        code = f" `{first[0][:80]}`" if first else ""
        return f"{where}{code} raised {self.ename}: {self.evalue}"


CellError = CellFailure  # the older name, still exported by forgekit.pipelines


class PipelineRun(BaseModel):
    """One attempt at running a job."""

    model_config = ConfigDict(extra="forbid")

    job: str
    run_id: str
    status: RunState
    trigger: Trigger = "manual"
    reason: str | None = None  # why the trigger fired (changed files, upstream run, ...)
    attempt: int = 1
    scheduled_for: str | None = None
    started_at: str = ""
    duration_s: float = 0.0
    notebook: str = ""
    output_notebook: str | None = None
    run_dir: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    error: CellFailure | None = None
    message: str | None = None
    mlflow_url: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def summary(self) -> str:
        head = f"{self.job} [{self.run_id}] {self.status}"
        if self.status == "skipped":
            return f"{head}: {self.message or ''}".rstrip(": ")
        head += f" in {self.duration_s:.1f}s"
        if self.error is not None:
            head += f": {self.error.describe()}"
        elif self.message:
            head += f": {self.message}"
        return head


def utc_stamp(t: datetime | None = None) -> str:
    """A sortable, file-name-safe UTC time stamp with microseconds."""
    t = t or datetime.now(UTC)
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%S_%fZ")


def append_run(log_path: Path, run: PipelineRun) -> None:
    """Append one record as one line; flushed and synced so a crash keeps it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    line = run.model_dump_json() + "\n"
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_runs(log_path: Path, job: str | None = None) -> list[PipelineRun]:
    """Every record in a runs log (a torn last line from a crash is skipped)."""
    if not log_path.exists():
        return []
    out = []
    for line in log_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            run = PipelineRun.model_validate(json.loads(line))
        except (ValueError, TypeError):
            continue
        if job is None or run.job == job:
            out.append(run)
    return out


_log = logging.getLogger(__name__)


def list_pipeline_runs(project: str | Path, limit: int = 200) -> list[dict[str, Any]]:
    """Pipeline runs of the project's jobs, newest first."""
    from forgekit.pipelines.job import load_job

    logs: set[Path] = set()
    for f in sorted(
        [
            *(Path(project) / "pipelines").glob("*.yaml"),
            *(Path(project) / "pipelines").glob("*.yml"),
        ]
    ):
        try:
            logs.add(runs_log_path(load_job(f)))
        except Exception as e:
            _log.warning("skipping job %s: %s", f, e)
    rows: list[dict[str, Any]] = []
    for p in logs:
        for r in read_runs(p):
            rows.append(
                {
                    "job": r.job,
                    "run_id": r.run_id,
                    "status": r.status,
                    "trigger": r.trigger,
                    "reason": r.reason or "",
                    "started_at": r.started_at,
                    "duration_s": r.duration_s,
                    "error": r.error.describe() if r.error else (r.message or ""),
                    "output_notebook": r.output_notebook or "",
                }
            )
    rows.sort(key=lambda r: r["started_at"], reverse=True)
    return rows[:limit]
