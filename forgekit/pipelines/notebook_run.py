"""Run a job now: papermill in a child process, with a timeout, retries and a record.

Example:
    >>> from forgekit.pipelines import load_job, run_job
    >>> run = run_job(load_job("pipelines/nightly.yaml"), parameters={"n": 3})  # doctest: +SKIP
    >>> run.status, run.output_notebook                                         # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forgekit.core.processes import ManagedProcess
from forgekit.core.redact import redact, redact_text
from forgekit.pipelines.job import JobSpec
from forgekit.pipelines.run_log import (
    CellFailure,
    PipelineRun,
    RunState,
    Trigger,
    append_run,
    runs_log_path,
    utc_stamp,
)

log = logging.getLogger("forgekit.pipelines")

# after SIGTERM, how long a notebook child gets before SIGKILL
_KILL_GRACE_S = 5.0


def _execute_once(
    job: JobSpec, run_dir: Path, parameters: dict[str, Any], interrupt: threading.Event | None
) -> tuple[RunState, CellFailure | None, str | None]:
    """One papermill execution; returns (status, cell error, message)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    nb = job.notebook_path().resolve()
    spec = {
        "input": str(nb),
        "output": str(run_dir / "output.ipynb"),
        "parameters": parameters,
        "kernel": job.kernel,
        "cwd": str(nb.parent),
        "error_file": str(run_dir / "error.json"),
    }
    spec_file = run_dir / "spec.json"
    spec_file.write_text(json.dumps(spec, indent=2, default=str), encoding="utf-8")
    stderr_path = run_dir / "papermill.log"
    stderr_path.unlink(missing_ok=True)
    # own session: a Ctrl-C at the terminal reaches the scheduler, not the job; the
    # notebook gets the scheduler's whole environment (its models need their keys)
    proc = ManagedProcess(
        [sys.executable, "-m", "forgekit.pipelines.execute", str(spec_file)],
        log_path=stderr_path,
        env=os.environ,
        name="the notebook run",
    ).start()
    code = proc.wait(job.timeout_s, interrupt=interrupt)
    if code is None:
        # SIGTERM to the child only (it shuts its kernel down), then SIGKILL to the group
        proc.stop(_KILL_GRACE_S, term_leader_only=True)
        if interrupt is not None and interrupt.is_set():
            return "interrupted", None, "stopped by the scheduler (interrupted)"
        return "timeout", None, f"timed out after {job.timeout_s:g}s"
    if code == 0:
        return "completed", None, None
    error_file = run_dir / "error.json"
    if error_file.exists():
        err_data = json.loads(error_file.read_text(encoding="utf-8"))
        return "failed", CellFailure.model_validate(err_data), None
    # the message is recorded (runs.jsonl, MLflow): no secret value the notebook printed
    tail = redact_text(stderr_path.read_text(encoding="utf-8", errors="replace")[-400:].strip())
    return "failed", None, f"papermill exited with status {code}: {tail}"


def run_job(
    job: JobSpec,
    *,
    parameters: dict[str, Any] | None = None,
    trigger: Trigger = "manual",
    scheduled_for: datetime | None = None,
    interrupt: threading.Event | None = None,
    stopping: threading.Event | None = None,
    reason: str | None = None,
) -> PipelineRun:
    """Execute `job` now, retrying per its policy; every attempt is logged.

    Args:
        job: the job (see `load_job`).
        parameters: overrides merged over the job's parameters.
        trigger: what started it (`manual`, `schedule`, `missed`, `queued`, `watch`,
            `webhook`, `after`, `when_up`), recorded.
        scheduled_for: the schedule slot this run serves, recorded.
        interrupt: when set, the running notebook is stopped and the run marked
            `interrupted`.
        stopping: when set, no further retry is started (a running attempt continues).
        reason: why the trigger fired (changed files, the upstream run, ...), recorded.

    Returns:
        The record of the last attempt (also appended to `<output_dir>/runs.jsonl`).
    """
    params = {**job.parameters, **(parameters or {})}
    log_path = runs_log_path(job)
    attempts = 1 + job.retries.max
    run: PipelineRun | None = None
    for attempt in range(1, attempts + 1):
        started = datetime.now(UTC)
        run_id = utc_stamp(started) + (f"-a{attempt}" if attempt > 1 else "")
        run_dir = job.job_dir() / run_id
        t0 = time.monotonic()
        log.info("job %s: run %s started (attempt %d/%d)", job.name, run_id, attempt, attempts)
        status, cell_error, message = _execute_once(job, run_dir, params, interrupt)
        run = PipelineRun(
            job=job.name,
            run_id=run_id,
            status=status,
            trigger=trigger,
            reason=reason,
            attempt=attempt,
            scheduled_for=scheduled_for.isoformat() if scheduled_for else None,
            started_at=started.isoformat(),
            duration_s=round(time.monotonic() - t0, 3),
            notebook=str(job.notebook_path()),
            run_dir=str(run_dir),
            output_notebook=str(run_dir / "output.ipynb")
            if (run_dir / "output.ipynb").exists()
            else None,
            parameters=redact(params),
            error=cell_error,
            message=message,
        )
        run.mlflow_url = _track(job, run)
        append_run(log_path, run)
        (run_dir / "run.json").write_text(run.model_dump_json(indent=2), encoding="utf-8")
        log.info("%s", run.summary())
        if status in ("completed", "interrupted"):
            break
        if attempt < attempts:
            delay = job.retries.delay(attempt - 1)  # attempt 1 failed: retry 0
            log.warning(
                "job %s: attempt %d %s; retrying in %.1fs", job.name, attempt, status, delay
            )
            waiter = stopping or interrupt or threading.Event()
            if waiter.wait(delay):
                break
    assert run is not None
    return run


def _track(job: JobSpec, run: PipelineRun) -> str | None:
    """Log the run to MLflow when the project turns tracking on; the run's link, or None."""
    from forgekit.pipelines.mlflow_record import track_run

    try:
        return track_run(job, run)
    except Exception as e:  # tracking must never fail a finished run
        log.warning("job %s: could not record the run in MLflow: %s", job.name, e)
        return None
