"""Job files: validation errors name file, line and key; paths resolve from the project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forgekit.core.errors import ConfigError
from forgekit.pipelines import JobRetryPolicy, RetryPolicy, load_job, load_jobs

NOTEBOOKS = Path(__file__).parent / "notebooks"


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    (tmp_path / "notebooks").mkdir()
    shutil.copy(NOTEBOOKS / "params.ipynb", tmp_path / "notebooks" / "params.ipynb")
    (tmp_path / "pipelines").mkdir()
    return tmp_path


def test_job_in_pipelines_folder_resolves_from_project_root(proj: Path) -> None:
    f = proj / "pipelines" / "nightly.yaml"
    f.write_text(
        "notebook: notebooks/params.ipynb\nparameters: {n: 3}\n"
        "schedule:\n  cron: '*/5 * * * * *'\n  jitter_s: 2\n"
    )
    job = load_job(f)
    assert job.name == "nightly"
    assert job.notebook_path() == proj / "notebooks" / "params.ipynb"
    assert job.job_dir() == proj / ".forgekit" / "pipelines" / "nightly"
    assert job.schedule is not None and job.schedule.overlap == "skip"
    assert [j.name for j in load_jobs(proj / "pipelines")] == ["nightly"]


def test_unknown_key_names_file_line_and_key(proj: Path) -> None:
    f = proj / "pipelines" / "bad.yaml"
    f.write_text(
        "notebook: notebooks/params.ipynb\nschedule:\n  cron: '* * * * * *'\n  overlapp: skip\n"
    )
    with pytest.raises(ConfigError) as e:
        load_job(f)
    assert e.value.line == 4 and e.value.key == "schedule.overlapp"
    assert "bad.yaml:4" in str(e.value)


def test_five_field_cron_is_rejected_with_a_hint(proj: Path) -> None:
    f = proj / "pipelines" / "five.yaml"
    f.write_text("notebook: notebooks/params.ipynb\nschedule:\n  cron: '*/5 * * * *'\n")
    with pytest.raises(ConfigError) as e:
        load_job(f)
    assert e.value.line == 3 and "seconds field" in str(e.value)


def test_missing_notebook_is_an_error_on_its_line(proj: Path) -> None:
    f = proj / "pipelines" / "nope.yaml"
    f.write_text("description: x\nnotebook: notebooks/missing.ipynb\n")
    with pytest.raises(ConfigError) as e:
        load_job(f)
    assert e.value.line == 2 and "notebook not found" in str(e.value)


def test_retry_backoff_grows_and_caps() -> None:
    r = JobRetryPolicy(max=4, backoff_s=2, factor=3, max_backoff_s=10)
    assert [r.delay(n) for n in range(4)] == [2, 6, 10, 10]  # 0-based, like a call's
    assert RetryPolicy is JobRetryPolicy  # the older name still imports


def test_shipped_pipeline_files_are_valid() -> None:
    root = Path(__file__).resolve().parents[2] / "pipelines"
    jobs = load_jobs(root)
    assert jobs, "pipelines/ should hold at least one example job"


def test_job_and_call_retries_count_from_zero() -> None:
    from forgekit.models import RetryPolicy as CallRetryPolicy
    from forgekit.models.retry import Failure

    call = CallRetryPolicy(base_s=2, max_s=100, jitter=False)
    job = JobRetryPolicy(backoff_s=2, factor=2, max_backoff_s=100)
    fail = Failure(True, 500, None, True)
    assert [job.delay(n) for n in range(3)] == [call.delay(n, fail) for n in range(3)] == [2, 4, 8]
