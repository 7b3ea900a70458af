"""The append-only audit log of index operations (JSON lines, flushed per record).

Records say what changed (sources added/updated/removed, chunk counts), who and when,
and how many PII filter hits of each type there were, never the PII itself."""

from __future__ import annotations

import getpass
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"


class AuditLog:
    """Appends one JSON object per index operation to `path`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, op: str, **fields: Any) -> dict[str, Any]:
        from forgekit.core.redact import redact

        rec = {"ts": datetime.now(UTC).isoformat(), "who": _who(), "op": op, **redact(fields)}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(rec, sort_keys=True, default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())
        return rec

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a torn last line after a crash
        return out
