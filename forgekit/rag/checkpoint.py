"""An index's checkpoint: each indexed source's content hash (`checkpoint.json`) and the
sources of the group being written (`pending.json`), both replaced atomically, so an
update interrupted anywhere resumes without duplicate chunks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

CHECKPOINT_VERSION = 1


class IndexCheckpoint:
    """The two checkpoint files in an index's metadata folder.

    The checkpoint is a dict: `version`, `fingerprint` (of what decides the stored chunks),
    `sources` (source -> content hash) and `fts_dirty` (the table changed since the
    full-text index was built)."""

    def __init__(self, meta_dir: Path) -> None:
        self.path = meta_dir / "checkpoint.json"
        self.pending_path = meta_dir / "pending.json"

    @staticmethod
    def empty(fingerprint: str | None = None) -> dict[str, Any]:
        return {
            "version": CHECKPOINT_VERSION,
            "fingerprint": fingerprint,
            "sources": {},
            "fts_dirty": False,
        }

    def load(self) -> dict[str, Any]:
        if self.path.exists():
            try:
                return json.loads(self.path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                pass  # torn write cannot happen (atomic replace), but be safe: rebuild
        return self.empty()

    def save(self, ck: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(ck, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)

    def load_pending(self) -> set[str]:
        p = self.pending_path
        if not p.exists():
            return set()
        try:
            return set(json.loads(p.read_text(encoding="utf-8")))
        except json.JSONDecodeError:  # cannot happen (atomic replace); be safe
            return set()

    def save_pending(self, sources: list[str]) -> None:
        p = self.pending_path
        if not sources and not p.exists():
            return
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(sources)), encoding="utf-8")
        os.replace(tmp, p)
