"""A pipeline job: a notebook, its parameters, where its runs go, and when it runs.

Jobs are YAML files (`pipelines/*.yaml`) validated with `extra="forbid"`, so a typo is an
error that names the file, line and key.

Relative paths (`notebook`, `output_dir`) are resolved against the job's *base
directory*: the project root when the job lives in a folder named `pipelines`
(`pipelines/nightly.yaml` -> the folder above it), else the folder holding the job file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from forgekit.core.errors import ConfigError
from forgekit.pipelines.triggers import (
    AfterTrigger,
    WatchTrigger,
    WebhookTrigger,
    WhenUpTrigger,
    as_list,
)


class JobRetryPolicy(BaseModel):
    """Retries of a failed job run with exponential backoff: retry `n` (0-based) waits
    `min(backoff_s * factor**n, max_backoff_s)`. (A model call's retries are
    `forgekit.models.RetryPolicy`, whose `delay` counts retries from 0 too.)"""

    model_config = ConfigDict(extra="forbid")

    max: int = Field(default=0, ge=0, description="extra attempts after the first failure")
    backoff_s: float = Field(default=10.0, ge=0)
    factor: float = Field(default=2.0, ge=1)
    max_backoff_s: float = Field(default=600.0, ge=0)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (0-based: 0 = the first retry)."""
        return min(self.backoff_s * self.factor ** max(retry, 0), self.max_backoff_s)


RetryPolicy = JobRetryPolicy  # the older name (forgekit.pipelines.RetryPolicy)


class ScheduleSpec(BaseModel):
    """When a job runs on its own under `forgekit schedule`.

    `cron` has six fields, seconds first: `sec min hour day-of-month month day-of-week`
    (`"0 30 2 * * *"` = 02:30:00 every day; `"*/10 * * * * *"` = every 10 seconds).
    """

    model_config = ConfigDict(extra="forbid")

    cron: str
    timezone: str = "UTC"
    # a fixed delay after each slot (spread jobs that share a slot) ...
    stagger_s: float = Field(default=0.0, ge=0)
    # ... plus a random delay in [0, jitter_s), derived from job name and slot (repeatable)
    jitter_s: float = Field(default=0.0, ge=0)
    # a slot that comes while the previous run still runs: skip it, or queue one run
    overlap: Literal["skip", "queue"] = "skip"
    # slots missed while the scheduler was down: run once at start, or skip them
    missed: Literal["run_once", "skip"] = "run_once"

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        from forgekit.pipelines.cron import CronExpr

        CronExpr.parse(value)  # raises ValueError with the reason
        return value

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r}") from e
        return value


class JobSpec(BaseModel):
    """One `pipelines/<name>.yaml` file."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    name: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]*$")
    description: str = ""
    notebook: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    output_dir: str = ".forgekit/pipelines"  # in the project store, beside its runs and evals
    kernel: str = "python3"
    timeout_s: float | None = Field(default=3600.0, gt=0)
    retries: JobRetryPolicy = Field(default_factory=JobRetryPolicy)
    schedule: ScheduleSpec | None = None
    # triggers other than time (forgekit.pipelines.triggers); each key: one or a list
    watch: list[WatchTrigger] = Field(default_factory=list)
    webhook: list[WebhookTrigger] = Field(default_factory=list)
    after: list[AfterTrigger] = Field(default_factory=list)
    when_up: list[WhenUpTrigger] = Field(default_factory=list)
    # what a trigger that comes while the job runs does (default: the schedule's, or skip)
    overlap: Literal["skip", "queue"] | None = None
    enabled: bool = True
    # record each run in MLflow: None = when the project's forgekit.yaml enables tracking
    track: bool | None = None

    # where the job was read from (not part of the file)
    source: str | None = Field(default=None, exclude=True)
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)

    @field_validator("watch", "webhook", "after", "when_up", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return as_list(value)

    def overlap_policy(self) -> Literal["skip", "queue"]:
        if self.overlap is not None:
            return self.overlap
        return self.schedule.overlap if self.schedule is not None else "skip"

    def has_triggers(self) -> bool:
        """A schedule or any other trigger: the scheduler has something to do for it."""
        return bool(self.schedule or self.watch or self.webhook or self.after or self.when_up)

    def notebook_path(self) -> Path:
        p = Path(self.notebook)
        return p if p.is_absolute() else (self.base_dir / p)

    def runs_root(self) -> Path:
        """The folder holding this job's run folders and the runs log."""
        p = Path(self.output_dir)
        return p if p.is_absolute() else (self.base_dir / p)

    def job_dir(self) -> Path:
        return self.runs_root() / self.name


def base_dir_for(job_file: Path) -> Path:
    folder = job_file.resolve().parent
    return folder.parent if folder.name == "pipelines" else folder


def load_job(path: str | Path) -> JobSpec:
    """Read and validate a job file; the name defaults to the file's stem.

    Raises:
        ConfigError: the file is missing, is not YAML, or has a bad key or value
            (the message names file, line and key).
    """
    from forgekit.core.yamlfile import load_yaml, validate

    path = Path(path)
    doc = load_yaml(path)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise ConfigError("a job file must be a mapping of keys", file=path, line=1)
    job = validate(JobSpec, doc)
    job.source = str(path)
    job.base_dir = base_dir_for(path)
    if not job.name:
        job.name = path.stem
    if not job.notebook_path().exists():
        raise ConfigError(
            f"notebook not found: {job.notebook_path()}",
            file=path,
            line=doc.line_of(("notebook",)),
            key="notebook",
        )
    return job


def load_jobs(folder: str | Path) -> list[JobSpec]:
    """Every `*.yaml`/`*.yml` job in `folder`, sorted by name; names must be unique."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError("pipelines folder not found", file=folder)
    jobs: list[JobSpec] = []
    seen: dict[str, str] = {}
    for f in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        job = load_job(f)
        if job.name in seen:
            raise ConfigError(
                f"job name {job.name!r} is also used by {seen[job.name]}", file=f, key="name"
            )
        seen[job.name] = str(f)
        jobs.append(job)
    from forgekit.pipelines.triggers import check_after_graph

    check_after_graph(jobs)
    return sorted(jobs, key=lambda j: j.name)
