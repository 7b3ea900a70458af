"""One writer per evaluation: an advisory lock file (`.lock`) in the eval's folder.

The lock is an `flock` on the file, so the kernel releases it when its process exits,
however it exits (SIGKILL included): a stale lock never blocks anybody. The file holds
the holder's pid, host and start time, for the message the second process gets.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path

from forgekit.core.errors import ForgekitError

LOCK_FILE = ".lock"
log = logging.getLogger(__name__)


class EvalLocked(ForgekitError):
    """Another process is running the same evaluation (same folder)."""

    def __init__(self, message: str, *, pid: int | None = None, host: str | None = None) -> None:
        super().__init__(message)
        self.pid = pid
        self.host = host


class EvalLock:
    """The lock of the eval in `out_dir`; `acquire()` then `release()` (or `async with`)."""

    def __init__(self, out_dir: str | Path, eval_id: str = "") -> None:
        self.path = Path(out_dir) / LOCK_FILE
        self.eval_id = eval_id or Path(out_dir).name
        self._fd: int | None = None

    def holder(self) -> dict:
        """What the lock file says about its holder ({} when unreadable)."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def _try(self, fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    async def acquire(self, *, wait: bool = False) -> None:
        """Take the lock; raise EvalLocked when another process holds it (or, with
        `wait`, wait until it is released)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not self._try(fd):
                h = self.holder()
                where = f"pid {h.get('pid', '?')}" + (
                    f" on {h['host']}" if h.get("host") and h["host"] != socket.gethostname()
                    else ""
                )
                if not wait:
                    raise EvalLocked(
                        f"eval {self.eval_id} is running in {where} (lock {self.path}); "
                        "--wait to wait for it (Python: wait=True), or use another out_dir",
                        pid=h.get("pid"),
                        host=h.get("host"),
                    )
                log.warning("eval %s is running in %s; waiting for it to finish",
                            self.eval_id, where)
                await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
