"""forgekit.pipelines: papermill jobs (`pipelines/*.yaml`), cron schedules with a seconds
field, triggers (file watch, webhook, after another job, when an endpoint is up) and a
foreground scheduler.

Example:
    >>> from forgekit.pipelines import load_job, run_job
    >>> run = run_job(load_job("pipelines/nightly.yaml"))   # doctest: +SKIP
    >>> print(run.summary())                                 # doctest: +SKIP
"""

from forgekit.pipelines.cron import CronExpr
from forgekit.pipelines.job import JobRetryPolicy, JobSpec, ScheduleSpec, load_job, load_jobs
from forgekit.pipelines.job import RetryPolicy as RetryPolicy  # older name of JobRetryPolicy
from forgekit.pipelines.notebook_run import run_job, runs_log_path
from forgekit.pipelines.run_log import CellError as CellError  # older name of CellFailure
from forgekit.pipelines.run_log import (
    CellFailure,
    PipelineRun,
    list_pipeline_runs,
    read_runs,
)
from forgekit.pipelines.scheduler import (
    Clock,
    FakeClock,
    Scheduler,
    SystemClock,
    read_trigger_state,
)
from forgekit.pipelines.triggers import (
    AfterTrigger,
    WatchTrigger,
    WebhookTrigger,
    WhenUpTrigger,
    notebook_parameters,
)

__all__ = [
    "AfterTrigger",
    "CellFailure",
    "Clock",
    "CronExpr",
    "FakeClock",
    "JobRetryPolicy",
    "JobSpec",
    "PipelineRun",
    "ScheduleSpec",
    "Scheduler",
    "SystemClock",
    "WatchTrigger",
    "WebhookTrigger",
    "WhenUpTrigger",
    "load_job",
    "load_jobs",
    "list_pipeline_runs",
    "notebook_parameters",
    "read_runs",
    "read_trigger_state",
    "run_job",
    "runs_log_path",
]
