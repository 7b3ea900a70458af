"""An eval's budget shared by its worker processes (`--workers N`).

`EvalBudget` (issue 15's ledger) makes a budget hold across re-runs; this makes it hold
across the processes of one run. The numbers every reservation decides on — what was
spent, the largest call so far, and what each process holds in flight — live in a small
memory-mapped file beside the ledger (`spend.board`), read and written under an
exclusive `flock` on it. Every process opens the file itself, so the kernel releases
the lock of a process that dies; the parent clears the in-flight holds of a worker that
died (`clear_slot`), so they never block the others. What each call actually spent is
still appended to `spend.jsonl` by the process that made it, so re-runs read it as
before.

A call that does not fit only because of what calls in flight (in any process) hold
waits, polling the board every few milliseconds; the guarantee is that of one process:
the total over all workers exceeds the budget by at most one call's actual use beyond
its estimate.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import mmap
import os
import threading
from pathlib import Path
from typing import Any

from forgekit.evals.spend import LEDGER, EvalBudget
from forgekit.models.budget import Budget

BOARD = "spend.board"
# header fields (float64 each), then (held usd, held tokens) per slot
_SPENT_USD, _SPENT_TOKENS, _LARGEST_USD, _LARGEST_TOKENS, _SETTLED = range(5)
_HEADER = 5
_POLL_S = 0.02


class _BoardLock:
    """The budget's lock: a thread lock in this process, then `flock` on the board; on
    entry the shared numbers are read into the budget, on exit written back."""

    def __init__(self, budget: SharedEvalBudget) -> None:
        self.budget = budget
        self._rlock = threading.RLock()
        self._depth = 0

    def __enter__(self) -> _BoardLock:
        self._rlock.acquire()
        self._depth += 1
        if self._depth == 1:
            try:
                fcntl.flock(self.budget._board_fd, fcntl.LOCK_EX)
                self.budget._load()
            except BaseException:
                self._depth -= 1
                self._rlock.release()
                raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._depth == 1:
                try:
                    self.budget._store()
                finally:
                    fcntl.flock(self.budget._board_fd, fcntl.LOCK_UN)
        finally:
            self._depth -= 1
            self._rlock.release()


class SharedEvalBudget(EvalBudget):
    """An `EvalBudget` whose state is shared by the processes of one run.

    Args:
        out_dir: the eval's folder (ledger and board).
        max_usd, max_tokens: the limits.
        slot: this process's row for what it holds in flight (0: the parent).
        slots: how many processes share it (the parent and its workers).
        create: the parent: read the ledger and write a fresh board; workers attach.
    """

    def __init__(
        self,
        out_dir: str | Path,
        max_usd: float | None = None,
        max_tokens: int | None = None,
        *,
        slot: int = 0,
        slots: int = 1,
        create: bool = False,
    ) -> None:
        out = Path(out_dir)
        self.board_path = out / BOARD
        self.slot = slot
        self._others_usd = 0.0
        self._others_tokens = 0
        if create:
            super().__init__(out, max_usd=max_usd, max_tokens=max_tokens)
            size = 8 * (_HEADER + 2 * slots)
            fd = os.open(self.board_path, os.O_RDWR | os.O_CREAT, 0o644)
            os.ftruncate(fd, 0)
            os.ftruncate(fd, size)
        else:
            Budget.__init__(self, max_usd=max_usd, max_tokens=max_tokens)
            self.path = out / LEDGER
            self._fd = None
            self.prior_usd, self.prior_tokens = 0.0, 0
            self.largest_usd, self.largest_tokens, self._settled_one = 0.0, 0, False
            fd = os.open(self.board_path, os.O_RDWR)
        self._board_fd = fd
        self._map: mmap.mmap | None = mmap.mmap(fd, os.fstat(fd).st_size)
        self._cells = memoryview(self._map).cast("d")
        self.slots = (len(self._cells) - _HEADER) // 2
        if not 0 <= slot < self.slots:
            raise ValueError(f"slot {slot} outside the board's {self.slots} slots")
        if create:  # what the ledger holds goes to the fresh board
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                self._store()
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        # the base class's threading.Lock, widened to a lock across processes (the board)
        self._lock = _BoardLock(self)  # type: ignore[assignment]
        with self._lock:
            pass  # read the shared numbers

    # -- the board ------------------------------------------------------------------------

    def _held_all(self) -> tuple[float, int, float, int]:
        """(total usd, total tokens, this slot's usd, this slot's tokens) held."""
        c = self._cells
        usd = sum(c[_HEADER + 2 * i] for i in range(self.slots))
        tokens = sum(c[_HEADER + 2 * i + 1] for i in range(self.slots))
        mine = _HEADER + 2 * self.slot
        return usd, int(tokens), c[mine], int(c[mine + 1])

    def _load(self) -> None:
        c = self._cells
        self._spent_usd = c[_SPENT_USD]
        self._spent_tokens = int(c[_SPENT_TOKENS])
        self.largest_usd = c[_LARGEST_USD]
        self.largest_tokens = int(c[_LARGEST_TOKENS])
        self._settled_one = bool(c[_SETTLED])
        usd, tokens, my_usd, my_tokens = self._held_all()
        self._held_usd, self._held_tokens = usd, tokens
        self._others_usd, self._others_tokens = usd - my_usd, tokens - my_tokens

    def _store(self) -> None:
        c = self._cells
        c[_SPENT_USD] = self._spent_usd
        c[_SPENT_TOKENS] = float(self._spent_tokens)
        c[_LARGEST_USD] = self.largest_usd
        c[_LARGEST_TOKENS] = float(self.largest_tokens)
        c[_SETTLED] = 1.0 if self._settled_one else 0.0
        mine = _HEADER + 2 * self.slot
        c[mine] = max(0.0, self._held_usd - self._others_usd)
        c[mine + 1] = float(max(0, self._held_tokens - self._others_tokens))

    def clear_slot(self, slot: int) -> None:
        """Drop what a dead process held in flight (its calls will never settle)."""
        with self._lock:
            c = self._cells
            base = _HEADER + 2 * slot
            gone_usd, gone_tokens = c[base], int(c[base + 1])
            c[base] = c[base + 1] = 0.0
            self._held_usd -= gone_usd
            self._held_tokens -= gone_tokens
            self._others_usd -= gone_usd
            self._others_tokens -= gone_tokens
            self._wake()

    # -- what the runner reads --------------------------------------------------------------

    @property
    def spent_usd(self) -> float:
        with self._lock:
            return self._spent_usd

    @property
    def spent_tokens(self) -> int:
        with self._lock:
            return self._spent_tokens

    async def _wait(self, fut: asyncio.Future) -> None:
        # another process's settle cannot wake this one: look again shortly
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fut, _POLL_S)

    def close(self) -> None:
        super().close()
        mapped = getattr(self, "_map", None)
        if mapped is not None:
            self._cells.release()
            mapped.close()
            self._map = None
            os.close(self._board_fd)
