"""The files bundle: confined to the workspace, symlink and `..` escapes refused."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from forgekit.agents import ToolEnv, ToolError, load_bundle


@pytest.fixture
def files(tmp_path: Path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.txt").write_text("one\ntwo\nthree\n")
    (ws / "src").mkdir()
    (ws / "src" / "m.py").write_text("def f():\n    return 1\n")
    tools = {t.name: t for t in load_bundle("files").tools}
    env = ToolEnv(workspace=ws)

    def call(name, **args):
        return asyncio.run(tools[name].call(args, env))

    return ws, call


def test_read_write_list_search(files):
    ws, call = files
    assert call("read_file", path="a.txt") == "one\ntwo\nthree\n"
    assert call("read_file", path="a.txt", start_line=2, end_line=2) == "two\n"
    assert "wrote" in call("write_file", path="out/new.txt", content="hi")
    assert (ws / "out" / "new.txt").read_text() == "hi"
    assert call("list_files", pattern="*.py") == "src/m.py"
    assert call("search_files", query=r"return \d") == "src/m.py:2: return 1"


def test_apply_unified_diff(files):
    ws, call = files
    diff = (
        "--- a/src/m.py\n+++ b/src/m.py\n@@ -1,2 +1,2 @@\n def f():\n"
        "-    return 1\n+    return 2\n--- /dev/null\n+++ b/new.md\n@@ -0,0 +1 @@\n+# new\n"
    )
    assert call("apply_diff", diff=diff) == "patched src/m.py, new.md"
    assert (ws / "src" / "m.py").read_text() == "def f():\n    return 2\n"
    assert (ws / "new.md").read_text() == "# new\n"
    with pytest.raises(ToolError, match="does not match"):
        call("apply_diff", diff="--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-nope\n+x\n")
    assert (ws / "a.txt").read_text() == "one\ntwo\nthree\n"


def test_escapes_are_refused(files, tmp_path: Path):
    ws, call = files
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    os.symlink(secret, ws / "link.txt")
    os.symlink(tmp_path, ws / "up")
    for path in ["../secret.txt", str(secret), "link.txt", "up/secret.txt", "src/../../secret.txt"]:
        with pytest.raises(ToolError, match="outside the workspace"):
            call("read_file", path=path)
    with pytest.raises(ToolError, match="outside the workspace"):
        call("write_file", path="../evil.txt", content="x")
    assert not (tmp_path / "evil.txt").exists()
    (ws / ".git").mkdir()
    with pytest.raises(ToolError, match="deny rule"):
        call("write_file", path=".git/config", content="x")
    with pytest.raises(ToolError, match="outside the workspace"):
        call("apply_diff", diff="--- /dev/null\n+++ b/../x.txt\n@@ -0,0 +1 @@\n+x\n")
