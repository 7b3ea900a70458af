"""Which runs are whose children: the one rule, for files and for runs in memory.

A run's children are the runs **in its folder whose `RunStart` names it as
`parent_run_id`**. The child's own first line is the authority: it is written with the
file (atomically, since the file appears with its RunStart in it), while the parent's
`child_run` note comes after it and may be missing: a crash between the two, a nested run
started with `Recorder.start(parent_run_id=...)`, or a file written by the JSONL sink
forgekit used before the recorder. The notes stay in the file as a record of what the
parent saw; they do not decide the tree.

Finding children scans the folder's first lines once and then only the files added since
(a run file's first line never changes), so loading every run of a large evaluation one by
one stays linear.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TypeVar

_MARK = b'"parent_run_id":"'  # a non-null parent, as the encoder writes it
_MAX_FOLDERS = 64


def first_line(path: Path) -> dict | None:
    """The first line of a JSONL file as a dict, or None when it is not a complete
    `run_start` line."""
    try:
        with path.open("rb") as f:
            line = f.readline()
        if not line.endswith(b"\n"):
            return None  # empty, or still being written (files of older versions)
        data = json.loads(line)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("type") == "run_start" else None


@dataclass
class _Folder:
    """What is known of one folder: each run file's parent id (None for a root run)."""

    parents: dict[str, str | None] = field(default_factory=dict)  # file name -> parent id
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self, folder: Path) -> None:
        try:
            names = {e.name for e in os.scandir(folder) if e.name.endswith(".jsonl")}
        except OSError:
            names = set()
        for gone in set(self.parents) - names:
            del self.parents[gone]
        for name in names - set(self.parents):
            parent = _parent_of(folder / name)
            if parent is not False:
                self.parents[name] = parent


def _parent_of(path: Path) -> str | None | Literal[False]:
    """The parent run id named by a run file's first line; None for a root run; False
    when the file is not (yet) a run file (not cached: it is looked at again next time)."""
    try:
        with path.open("rb") as f:
            line = f.readline()
    except OSError:
        return False
    if not line.endswith(b"\n"):
        return False
    if _MARK not in line and b'"type":"run_start"' in line:
        return None  # the usual case: no parent, no need to parse the line
    try:
        data = json.loads(line)
    except ValueError:
        return False
    if not isinstance(data, dict) or data.get("type") != "run_start":
        return False
    parent = data.get("parent_run_id")
    return parent if isinstance(parent, str) and parent else None


_folders: dict[Path, _Folder] = {}
_folders_lock = threading.Lock()


def child_paths(folder: Path, run_id: str) -> list[Path]:
    """The files in `folder` of the runs whose RunStart names `run_id` as parent."""
    key = folder.resolve()
    with _folders_lock:
        index = _folders.pop(key, None) or _Folder()
        _folders[key] = index  # most recently used last
        while len(_folders) > _MAX_FOLDERS:
            del _folders[next(iter(_folders))]
    with index.lock:
        index.refresh(key)
        names = sorted(n for n, p in index.parents.items() if p == run_id)
    return [folder / n for n in names]


class _Run(Protocol):
    @property
    def run_id(self) -> str: ...
    @property
    def parent_run_id(self) -> str | None: ...
    @property
    def children(self) -> list: ...
    @property
    def start(self) -> object: ...


R = TypeVar("R", bound=_Run)


def start_ts(run: _Run) -> float:
    return float(getattr(run.start, "ts", 0.0))


def link(runs: Sequence[R]) -> list[R]:
    """Attach runs in memory to their parents by `parent_run_id` (the same rule); returns
    the roots (runs whose parent is not among `runs`), children ordered by start time."""
    by_id = {r.run_id: r for r in runs}
    roots = []
    for r in runs:
        parent = by_id.get(r.parent_run_id or "")
        if parent is not None and parent is not r:
            if all(c is not r for c in parent.children):
                parent.children.append(r)
        else:
            roots.append(r)
    for r in runs:
        r.children.sort(key=start_ts)
    return roots


__all__ = ["child_paths", "first_line", "link", "start_ts"]
