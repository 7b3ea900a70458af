from __future__ import annotations

from pathlib import Path

from forgekit.pipelines import CellError, CellFailure, PipelineRun
from forgekit.pipelines.run_log import append_run, read_runs


def test_a_failed_cell_is_a_record_that_round_trips_through_the_runs_log(tmp_path: Path) -> None:
    assert CellError is CellFailure  # the older name still imports
    failure = CellFailure(cell_index=2, ename="ValueError", evalue="bad", source="x = f()\ny = 1")
    run = PipelineRun(job="j", run_id="r1", status="failed", error=failure)
    log = tmp_path / "runs.jsonl"
    append_run(log, run)
    (again,) = read_runs(log)
    assert again.error == failure
    assert again.error.describe() == "cell 2 `x = f()` raised ValueError: bad"
