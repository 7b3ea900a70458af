"""What a workflow delivers besides its answer: the workspace's changes, as a unified diff
or as files, against a snapshot taken before the work started."""

from __future__ import annotations

import difflib
from pathlib import Path

SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".venv", "node_modules", ".mypy_cache"}
MAX_FILE_BYTES = 1_000_000


def snapshot(workspace: Path) -> dict[str, str]:
    """Text files of the workspace (relative path -> content); binary, huge and cache
    files are left out."""
    out: dict[str, str] = {}
    if not workspace.is_dir():
        return out
    for p in sorted(workspace.rglob("*")):
        rel = p.relative_to(workspace)
        if any(part in SKIP_DIRS for part in rel.parts) or not p.is_file():
            continue
        if p.stat().st_size > MAX_FILE_BYTES:
            continue
        try:
            out[rel.as_posix()] = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
    return out


def changed_files(before: dict[str, str], after: dict[str, str]) -> dict[str, str | None]:
    """Path -> new content (None when deleted) of every file that changed."""
    out: dict[str, str | None] = {p: c for p, c in after.items() if before.get(p) != c}
    out.update({p: None for p in before if p not in after})
    return dict(sorted(out.items()))


def unified_diff(before: dict[str, str], after: dict[str, str]) -> str:
    """A `git apply`-able unified diff from `before` to `after`."""
    chunks: list[str] = []
    for path, new in changed_files(before, after).items():
        old = before.get(path)
        a = old.splitlines(keepends=True) if old is not None else []
        b = new.splitlines(keepends=True) if new is not None else []
        lines = list(difflib.unified_diff(
            a, b, fromfile=f"a/{path}" if old is not None else "/dev/null",
            tofile=f"b/{path}" if new is not None else "/dev/null"))
        chunks.append("".join(line if line.endswith("\n") else line + "\n\\ No newline at "
                              "end of file\n" for line in lines))
    return "".join(chunks)
