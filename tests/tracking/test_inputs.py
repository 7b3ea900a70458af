"""What the tracking layer accepts (paths, trajectories, events) becomes trajectories."""

import time
from pathlib import Path

import pytest

from forgekit.tracking.runs import as_trajectories, jsonl_text
from forgekit.trajectory import Trajectory
from tests.tracking.recorded_runs import child_events, run_events, write_jsonl


def test_events_of_several_runs_become_a_tree():
    t0 = time.time()
    events = run_events("root", t0=t0) + child_events("kid", "root", t0)
    (root,) = as_trajectories(events)
    assert isinstance(root, Trajectory)
    assert root.run_id == "root" and root.status == "completed"
    assert [c.run_id for c in root.children] == ["kid"]
    assert len(root.body) == 5 and len(root.events) == 7 and root.end is not None


def test_events_without_a_run_start_are_refused():
    with pytest.raises(ValueError, match="run_start"):
        as_trajectories(run_events("r")[1:])


def test_truncated_last_line_is_dropped_and_marked(tmp_path: Path):
    path = write_jsonl(tmp_path / "r.jsonl", run_events("r")[:-1])
    with path.open("a") as f:
        f.write('{"type": "model_call", "run_id": "r", "se')  # killed mid-write
    (t,) = as_trajectories(path)
    assert t.truncated and t.end is None and t.status == "interrupted"
    assert len(t.body) == 5
    assert t.end_ts == t.events[-1].ts  # an interrupted run ends at its last event


def test_a_path_finds_child_files(tmp_path: Path):
    t0 = time.time()
    root = write_jsonl(tmp_path / "root.jsonl", run_events("root", t0=t0))
    write_jsonl(tmp_path / "kid.jsonl", child_events("kid", "root", t0))
    write_jsonl(tmp_path / "other.jsonl", run_events("other", t0=t0))
    (t,) = as_trajectories(root)
    assert [c.run_id for c in t.children] == ["kid"]


def test_a_child_listed_beside_its_parent_stays_under_it(tmp_path: Path):
    t0 = time.time()
    root = write_jsonl(tmp_path / "root.jsonl", run_events("root", t0=t0))
    kid = write_jsonl(tmp_path / "kid.jsonl", child_events("kid", "root", t0))
    runs = as_trajectories([kid, root, root])
    assert [r.run_id for r in runs] == ["root"]
    assert [c.run_id for c in runs[0].children] == ["kid"]


def test_a_file_that_is_not_a_trajectory_is_a_value_error(tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "note", "run_id": "x", "seq": 0}\n')
    with pytest.raises(ValueError, match="not a trajectory"):
        as_trajectories(bad)


def test_runs_in_memory_are_written_as_the_recorder_writes_them(tmp_path: Path):
    t0 = time.time()
    path = write_jsonl(tmp_path / "r.jsonl", run_events("r", t0=t0))
    (t,) = as_trajectories(run_events("r", t0=t0))
    assert jsonl_text(t) == path.read_text(encoding="utf-8")
