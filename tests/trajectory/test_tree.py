"""One child-discovery rule: a run's children are the runs in its folder whose RunStart
names it as parent, for files the recorder writes today and files of older writers."""

import json
import time
from pathlib import Path

from forgekit.core.events import ModelCall, NoteEvent, RunEnd, RunStart
from forgekit.core.messages import Message, Usage
from forgekit.trajectory import Recorder, Trajectory
from forgekit.trajectory.recorder import CHILD_NOTE
from forgekit.trajectory.tree import child_paths, link


def _recorded_tree(runs: Path) -> Recorder:
    """What the recorder writes today: child files with `parent_run_id`, and a
    `child_run` note in the parent for each."""
    root = Recorder.start(runs, solver="best_of_n")
    for i in range(2):
        kid = root.child(f"candidate{i}")
        grandkid = kid.child("judge")
        grandkid.finish(status="completed", answer="ok")
        kid.finish(status="completed", answer=str(i))
    root.finish(status="completed", answer="1")
    return root


def _old_sink_file(path: Path, run_id: str, parent: str | None, t0: float) -> None:
    """A run as forgekit's JSONL sink wrote it before the recorder: `model_dump_json` per
    line, messages inline, and no `child_run` note in the parent."""
    events = [
        RunStart(run_id=run_id, seq=0, ts=t0, parent_run_id=parent, solver="old"),
        ModelCall(run_id=run_id, seq=1, ts=t0 + 0.1, model="m", text="hi",
                  messages=[Message.user(f"question of {run_id}")],
                  usage=Usage(input_tokens=3, output_tokens=1)),
        RunEnd(run_id=run_id, seq=2, ts=t0 + 0.2, status="completed", answer="hi"),
    ]
    path.write_text("".join(e.model_dump_json() + "\n" for e in events), encoding="utf-8")


def test_recorded_runs_find_children_and_grandchildren(tmp_path: Path):
    root = _recorded_tree(tmp_path)
    t = Trajectory.load(root.path)
    assert [c.solver for c in t.children] == ["candidate0", "candidate1"]
    assert [g.solver for c in t.children for g in c.children] == ["judge", "judge"]
    assert t.warnings == [] and len(t.walk()) == 5
    assert Trajectory.load(root.path, children=False).children == []


def test_files_of_an_older_writer_find_their_children_without_notes(tmp_path: Path):
    t0 = time.time() - 10
    _old_sink_file(tmp_path / "root.jsonl", "root", None, t0)
    _old_sink_file(tmp_path / "b.jsonl", "b", "root", t0 + 2)
    _old_sink_file(tmp_path / "a.jsonl", "a", "root", t0 + 1)
    _old_sink_file(tmp_path / "a1.jsonl", "a1", "a", t0 + 1.5)
    t = Trajectory.load(tmp_path / "root.jsonl")
    assert not any(isinstance(e, NoteEvent) for e in t.events)
    assert [c.run_id for c in t.children] == ["a", "b"]  # by start time, not by name
    assert [g.run_id for g in t.children[0].children] == ["a1"]
    assert t.totals()["model_calls"] == 4 and t.warnings == []
    # inline messages of the older format are kept
    assert t.model_calls[0].messages[0].content == "question of root"


def test_the_folder_is_the_same_tree_as_loading_the_root(tmp_path: Path):
    root = _recorded_tree(tmp_path / "new")
    t0 = time.time()
    (tmp_path / "old").mkdir()
    _old_sink_file(tmp_path / "old" / "r.jsonl", "r", None, t0)
    _old_sink_file(tmp_path / "old" / "k.jsonl", "k", "r", t0 + 1)
    (tmp_path / "old" / "notes.jsonl").write_text('{"hello": 1}\n')  # not a run: ignored
    roots, problems = Trajectory.load_folder(tmp_path)
    assert problems == []
    by_id = {r.run_id: r for r in roots}
    assert set(by_id) == {root.run_id, "r"}
    loaded = Trajectory.load(root.path)
    assert [c.run_id for c in by_id[root.run_id].walk()] == [c.run_id for c in loaded.walk()]
    assert [c.run_id for c in by_id["r"].children] == ["k"]
    # a run in another folder naming "r" is not its child there either
    (tmp_path / "elsewhere").mkdir()
    _old_sink_file(tmp_path / "elsewhere" / "stray.jsonl", "stray", "r", t0 + 2)
    roots, _ = Trajectory.load_folder(tmp_path)
    assert "stray" in {r.run_id for r in roots}
    assert [c.run_id for c in Trajectory.load(tmp_path / "old" / "r.jsonl").children] == ["k"]


def test_a_note_naming_a_missing_child_is_a_warning(tmp_path: Path):
    root = _recorded_tree(tmp_path)
    gone = Trajectory.load(root.path).children[1]
    assert gone.path is not None
    gone.path.unlink()
    t = Trajectory.load(root.path)
    assert [c.solver for c in t.children] == ["candidate0"]
    assert any(gone.run_id in w and "names" in w for w in t.warnings)


def test_a_child_written_after_a_first_load_is_found(tmp_path: Path):
    root = Recorder.start(tmp_path, solver="agent")
    assert Trajectory.load(root.path).children == []
    kid = Recorder.start(tmp_path, solver="late", parent_run_id=root.run_id)  # no note
    kid.finish(status="completed")
    root.finish(status="completed")
    assert [c.solver for c in Trajectory.load(root.path).children] == ["late"]
    assert child_paths(tmp_path, root.run_id) == [kid.path]


def test_a_cycle_of_parents_loads_each_run_once(tmp_path: Path):
    t0 = time.time()
    _old_sink_file(tmp_path / "x.jsonl", "x", "y", t0)
    _old_sink_file(tmp_path / "y.jsonl", "y", "x", t0 + 1)
    t = Trajectory.load(tmp_path / "x.jsonl")
    assert [r.run_id for r in t.walk()] == ["x", "y"]


def test_link_in_memory_uses_the_same_rule():
    t0 = time.time()
    runs = [
        Trajectory.from_events([RunStart(run_id=i, ts=t0 + n, parent_run_id=p)])
        for n, (i, p) in enumerate([("k2", "r"), ("r", None), ("k1", "r")])
    ]
    runs[0].start.ts = t0 + 5
    (root,) = link(runs)
    assert root.run_id == "r" and [c.run_id for c in root.children] == ["k1", "k2"]


def test_the_note_is_still_written(tmp_path: Path):
    root = _recorded_tree(tmp_path)
    notes = [json.loads(x) for x in root.path.read_text().splitlines()]
    assert sum(1 for n in notes if n.get("kind") == CHILD_NOTE) == 2
