"""Jobs executed for real with papermill (kernel python3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.pipelines import load_job, read_runs, run_job, runs_log_path
from tests.pipelines.job_files import job_file

pytestmark = pytest.mark.slow


def test_timeout_and_retries_with_backoff(tmp_path: Path) -> None:
    f = job_file(tmp_path, "slow.ipynb", "timeout_s: 4\nretries: {max: 1, backoff_s: 0.1}\n")
    job = load_job(f)
    run = run_job(job, parameters={"seconds": 60})
    runs = read_runs(runs_log_path(job))
    assert [r.status for r in runs] == ["timeout", "timeout"]
    assert [r.attempt for r in runs] == [1, 2] and run.attempt == 2
    assert "timed out after 4s" in (run.message or "")
    assert run.duration_s < 20
