"""What a crash leaves in a runs folder, tidied on the next resume.

A process killed mid-run leaves run files without a `RunEnd` (and, before run files were
created with their `RunStart` in one write, sometimes empty ones). `close_interrupted`
ends each such run as ``interrupted`` with a stop reason starting ``superseded``: the
sample runs again under a new run id, and `forgekit runs list` hides superseded runs
unless asked (``--superseded``). Empty files hold nothing and are removed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from forgekit.core.events import RunEnd
from forgekit.core.totals import RunTotals
from forgekit.trajectory.format import LineEncoder

SUPERSEDED = "superseded"
_TAIL = 1 << 16


def _last_line(path: Path) -> bytes:
    """The last complete line of a file (b'' when it has none)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        back = min(size, _TAIL)
        while True:
            f.seek(size - back)
            chunk = f.read(back)
            body = chunk[:-1] if chunk.endswith(b"\n") else chunk
            cut = body.rfind(b"\n")
            if cut >= 0 or back >= size:
                return body[cut + 1 :]
            back = min(size, back * 4)


def is_open(path: Path) -> bool:
    """Whether a run file has no `RunEnd` (its process stopped before finishing it)."""
    line = _last_line(path)
    if not line.strip():
        return True
    try:
        return json.loads(line).get("type") != "run_end"
    except (ValueError, AttributeError):
        return True  # a torn last line: the run never reached its end


def close_interrupted(runs_dir: str | Path, reason: str) -> list[Path]:
    """End every open run in `runs_dir` as interrupted and superseded (`reason` says by
    what); remove empty run files. Returns the files it closed. Only call it while no
    process is writing to `runs_dir` (the eval's lock is held)."""
    closed: list[Path] = []
    root = Path(runs_dir)
    if not root.is_dir():
        return closed
    for tmp in root.glob(".*.jsonl.tmp"):  # killed before its first event was in place
        tmp.unlink(missing_ok=True)
    for path in root.glob("*.jsonl"):
        try:
            if path.stat().st_size == 0:
                path.unlink()  # created but never written (an older forgekit): nothing in it
                continue
            if not is_open(path):
                continue
            _close(path, reason)
            closed.append(path)
        except OSError:
            continue
    return closed


def _close(path: Path, reason: str) -> None:
    from forgekit.trajectory.reader import Trajectory

    totals, seq, run_id, first_ts = RunTotals(), -1, None, None
    data = path.read_bytes()
    try:
        events = Trajectory.load(path, children=False).events
    except Exception:  # noqa: BLE001 - unreadable: closed with zero totals
        events = []
    for event in events:
        seq = max(seq, event.seq)
        run_id = run_id or event.run_id
        first_ts = event.ts if first_ts is None else first_ts
        totals.add(event)
    end = RunEnd(
        status="interrupted",
        stop_reason=f"{SUPERSEDED}: {reason}",
        error="the process stopped before the run finished (killed or crashed)",
        **totals.run_end_fields(),
        duration_s=max(0.0, time.time() - first_ts) if first_ts is not None else 0.0,
    )
    end.run_id = run_id or path.stem
    end.seq = seq + 1
    line = LineEncoder().encode(end).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        if data and not data.endswith(b"\n"):
            line = b"\n" + line  # the torn line stays alone on its line
        os.write(fd, line)
    finally:
        os.close(fd)
