"""`Index.watch()` / `forgekit rag index --watch`: the index follows its folder (real
files, watchfiles, LanceDB), reports errors without stopping, and survives a SIGKILL in
the middle of an update (a real child process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from forgekit.rag import Index
from forgekit.rag.chunking import content_hash
from tests.rag.hash_embedder import SlowHashEmbedder
from tests.waiting import wait_for


def test_watched_index_follows_adds_edits_deletes_and_reports_errors(
    docs_dir, tmp_path, embedder
) -> None:
    idx = Index(
        docs_dir, name="w", project_dir=tmp_path / "p", embedder=embedder,
        keywords={"enabled": False},
    )
    reports, errors = [], []
    fail_next = threading.Event()
    real_update = idx.update

    def update(*a, **kw):
        if fail_next.is_set():
            fail_next.clear()
            raise OSError("disk hiccup")
        return real_update(*a, **kw)

    idx.update = update  # one scripted failure: the watch must report it and go on
    w = idx.watch(debounce_s=0.3, background=True, on_update=reports.append,
                  on_error=errors.append)
    try:
        assert len(reports) == 1 and not reports[0].changed  # the catch-up found nothing
        new = docs_dir / "guide" / "replay.md"
        new.write_text("# Replay\n\nReplay re-runs a recorded trajectory with zero model calls.\n")
        # each report comes once its update is complete (checkpoint and full-text index)
        wait_for(lambda: any(r.added == ["guide/replay.md"] for r in reports), what="the add")
        assert "guide/replay.md" in idx.sources()
        assert idx.search("re-runs a recorded trajectory", k=1)[0].source == "guide/replay.md"

        edited = b"# Install\n\nInstall forgekit with uv: uv pip install forgekit.\n"
        (docs_dir / "guide" / "install.md").write_bytes(edited)
        wait_for(lambda: any(r.updated == ["guide/install.md"] for r in reports),
                 what="the edit")
        assert idx.sources()["guide/install.md"] == content_hash(edited)
        texts = [c["text"] for c in idx.chunks() if c["source"] == "guide/install.md"]
        assert any("uv pip install" in t for t in texts)
        assert not any("Offline" in t for t in texts)  # the old section is gone

        fail_next.set()
        (docs_dir / "notes.txt").unlink()
        wait_for(lambda: len(errors) == 1, what="the reported error")
        assert "notes.txt" in idx.sources()  # the failed update changed nothing
        (docs_dir / "tool.py").unlink()  # the next change retries: both deletes land
        wait_for(lambda: any(r.removed for r in reports), what="the deletes")
        assert reports[-1].removed == ["notes.txt", "tool.py"]
        assert "notes.txt" not in idx.sources() and "tool.py" not in idx.sources()
        assert {c["source"] for c in idx.chunks()} == {
            "guide/install.md", "guide/search.md", "guide/replay.md"
        }
    finally:
        w.stop()
    assert not w.thread.is_alive() and w.errors == 1 and isinstance(errors[0], OSError)
    ids = [c["id"] for c in idx.chunks()]
    assert len(ids) == len(set(ids))


def test_only_a_folder_index_can_be_watched(tmp_path) -> None:
    from forgekit.core.errors import ConfigError

    idx = Index(["one text"], name="docs", project_dir=tmp_path, embedder=SlowHashEmbedder(),
                keywords={"enabled": False})
    with pytest.raises(ConfigError, match="only a folder"):
        idx.watch(background=True)


CHILD = textwrap.dedent(
    """
    import sys
    from forgekit.rag import Index
    from forgekit.rag.watch import IndexWatcher
    from tests.rag.hash_embedder import SlowHashEmbedder

    idx = Index(sys.argv[1], name="k", project_dir=sys.argv[2],
                embedder=SlowHashEmbedder(float(sys.argv[3])),
                keywords={"enabled": False}, window_chunks=3, batch_sources=2)
    w = IndexWatcher(idx, debounce_s=0.2)
    w.start()
    print("ready", flush=True)
    w.thread.join()
    """
)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.md")}


def test_watched_index_survives_sigkill_mid_update(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(30):
        (root / f"p{i:02}.md").write_text(f"# Page {i}\n\nThe text of page {i}.\n")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proj = tmp_path / "proj"
    ck = proj / ".forgekit" / "rag" / "indexes" / "k" / "checkpoint.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}

    child = subprocess.Popen(
        [sys.executable, str(script), str(root), str(proj), "0.15"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    for line in child.stdout:  # the first build, then the watcher is installed
        if line.strip() == "ready":
            break
    else:
        raise AssertionError(f"child failed: rc={child.wait()}")
    try:
        # edit 20, delete 5, add 5: an update of 25 sources in groups of 2
        for i in range(20):
            (root / f"p{i:02}.md").write_text(f"# Page {i}\n\nEdited text of page {i}.\n")
        for i in range(25, 30):
            (root / f"p{i:02}.md").unlink()
        for i in range(30, 35):
            (root / f"p{i:02}.md").write_text(f"# Page {i}\n\nA new page {i}.\n")
        want = {k: content_hash(v) for k, v in _files(root).items()}

        def progress() -> int:
            try:
                have = json.loads(ck.read_text())["sources"]
            except (OSError, ValueError):
                return 0
            return sum(have.get(k) == h for k, h in want.items())

        # the first build stored 30 sources; 5 of them are still right after the edits
        wait_for(lambda: progress() > 5 + 2, what="the watch update to start writing")
        done = progress()
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert done < len(want), "the update finished before the kill; make it slower"
    # the next start (here in this process) catches up: exactly the folder, no duplicates
    reader = Index(root, name="k", project_dir=proj, embedder=SlowHashEmbedder(),
                   keywords={"enabled": False}, build=False)
    reports = []
    reader.watch(background=True, on_update=reports.append).stop()
    assert progress() == len(want) and reports[0].changed
    rows = reader.chunks()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert {r["source"] for r in rows} == set(want)
    assert reader.sources() == want
    for r in rows:
        edited = int(r["source"][1:3]) < 20
        assert ("Edited text" in r["text"]) == edited, r
