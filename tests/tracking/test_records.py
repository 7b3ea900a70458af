import time
from pathlib import Path

from forgekit.tracking.records import as_records, read_jsonl, scan_runs_dir
from tests.tracking.recorded_runs import child_events, run_events, write_jsonl


def test_events_of_several_runs_become_a_tree():
    t0 = time.time()
    events = run_events("root", t0=t0) + child_events("kid", "root", t0)
    (root,) = as_records(events)
    assert root.run_id == "root" and root.status == "completed"
    assert [c.run_id for c in root.children] == ["kid"]
    assert len(root.events) == 5 and root.end is not None


def test_truncated_last_line_is_dropped_and_marked(tmp_path: Path):
    path = write_jsonl(tmp_path / "r.jsonl", run_events("r")[:-1])
    with path.open("a") as f:
        f.write('{"type": "model_call", "run_id": "r", "se')  # killed mid-write
    rec = read_jsonl(path)
    assert rec.truncated and rec.end is None and rec.status == "interrupted"
    assert len(rec.events) == 5


def test_path_finds_child_files_and_scan_links_the_folder(tmp_path: Path):
    t0 = time.time()
    root = write_jsonl(tmp_path / "root.jsonl", run_events("root", t0=t0))
    write_jsonl(tmp_path / "kid.jsonl", child_events("kid", "root", t0))
    write_jsonl(tmp_path / "other.jsonl", run_events("other", t0=t0))
    (tmp_path / "notes.jsonl").write_text('{"hello": 1}\n')  # not a trajectory: ignored
    (rec,) = as_records(root)
    assert [c.run_id for c in rec.children] == ["kid"]
    roots, problems = scan_runs_dir(tmp_path)
    assert sorted(r.run_id for r in roots) == ["other", "root"] and problems == []


def test_a_child_listed_beside_its_parent_stays_under_it(tmp_path: Path):
    t0 = time.time()
    root = write_jsonl(tmp_path / "root.jsonl", run_events("root", t0=t0))
    kid = write_jsonl(tmp_path / "kid.jsonl", child_events("kid", "root", t0))
    records = as_records([kid, root, root])
    assert [r.run_id for r in records] == ["root"]
    assert [c.run_id for c in records[0].children] == ["kid"]
