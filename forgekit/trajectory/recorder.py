"""The recorder: an event sink that writes a run's events to its JSON-lines file as they happen.

Example:
    >>> rec = Recorder.start(tmp_dir, solver="qa", models=["local"])   # doctest: +SKIP
    >>> ctx = RunContext(gateway=gw, sink=rec)                          # doctest: +SKIP
    >>> answer = await solver.solve(sample, ctx); ctx.end(answer)       # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from forgekit.core.context import new_run_id
from forgekit.core.events import (
    Event,
    NoteEvent,
    RunEnd,
    RunStart,
    RunStatus,
)
from forgekit.core.hashing import stable_hash
from forgekit.core.totals import RUN_END_KEYS, RunTotals
from forgekit.trajectory.format import LineEncoder

CHILD_NOTE = "child_run"
_VERSIONED = ("forgekit", "pydantic", "litellm")


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    out = []
    for name in _VERSIONED:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return tuple(out)


def package_versions() -> dict[str, str]:
    """Versions of forgekit and the libraries that shape a run's results (read once)."""
    return dict(_versions())


def _open_append(path: str) -> int:
    """An O_APPEND descriptor on `path`, creating its directory when it is missing (tried
    first without `mkdir`: an eval opens thousands of files in one directory)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    try:
        return os.open(path, flags, 0o644)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return os.open(path, flags, 0o644)


class Recorder:
    """An `EventSink` writing one run to `<runs_dir>/<run_id>.jsonl`.

    Every event is stamped (`run_id`, `seq`), redacted, encoded and appended with a single
    `os.write` on an `O_APPEND` descriptor, so it is in the file (the OS page cache) before
    `emit` returns: a crash of the process loses nothing that was emitted. `emit` is
    thread-safe and may be called from any task of an event loop.

    Children (`child()`) are Recorders writing their own file in the same directory, with
    `parent_run_id` set; the parent gets a `note` event (`kind="child_run"`) naming the child.
    `finish()` writes `RunEnd` with totals over the run and its children, and closes the file.
    """

    def __init__(
        self, path: str | Path, run_id: str, parent: Recorder | None = None, fsync: bool = False,
        *, _first: Event | None = None,
    ) -> None:
        # the path is kept as text (os calls take it as is); `path` builds a Path on demand
        self._path = os.fspath(path)
        self._path_obj: Path | None = path if isinstance(path, Path) else None
        self.run_id = run_id
        self.parent_run_id: str | None = parent.run_id if parent is not None else None
        self.parent = parent
        self.children: list[Recorder] = []
        self.end: RunEnd | None = None
        self._fsync = fsync
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._encoder = LineEncoder()
        self._totals = RunTotals()
        self._t0 = time.monotonic()
        self._fd: int | None = None
        if _first is not None:
            # the file appears with its first event in it (written beside it, renamed
            # into place): a crash never leaves an empty run file behind. The descriptor
            # stays open across the rename (it is the same file), so one open serves both
            head, name = os.path.split(self._path)
            tmp = os.path.join(head, f".{name}.tmp")
            fd = _open_append(tmp)
            try:
                self._write(fd, self._stamp(_first))
                os.replace(tmp, self._path)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        else:
            self._fd = _open_append(self._path)

    @property
    def path_str(self) -> str:
        """The run file, as text (what a results row stores)."""
        return self._path

    @property
    def path(self) -> Path:
        """The run file."""
        if self._path_obj is None:
            self._path_obj = Path(self._path)
        return self._path_obj

    @classmethod
    def start(
        cls,
        runs_dir: str | Path,
        solver: str = "",
        config: dict[str, Any] | None = None,
        models: list[str] | None = None,
        sample_id: str | None = None,
        epoch: int | None = None,
        seed: int | None = None,
        params: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        parent_run_id: str | None = None,
        *,
        run_id: str | None = None,
        fsync: bool = False,
        config_hash: str | None = None,
        versions: dict[str, str] | None = None,
        _parent: Recorder | None = None,
    ) -> Recorder:
        """Open a new run file and write its `RunStart`.

        Args:
            runs_dir: the directory of run files (created if missing).
            solver: the solver's name. config: its constructor arguments (hashed).
            models: the model aliases the run uses. sample_id, epoch, seed: what it runs on.
            params, tags: free parameters and string tags recorded with the run.
            parent_run_id: the parent run, for a nested run started outside `child()`.
            run_id: a chosen id (default: a fresh random one).
            fsync: also fsync after every event (durable against power loss; slower).
            config_hash, versions: override what is computed (the hash of `config`, the
                versions of forgekit and its main libraries).
        """
        run_id = run_id or new_run_id()
        parent = _parent.run_id if _parent is not None else parent_run_id
        config = dict(config or {})
        start = RunStart(
            parent_run_id=parent,
            solver=solver,
            config_hash=config_hash or stable_hash(config),
            config=config,
            models=list(models or []),
            seed=seed,
            sample_id=sample_id,
            epoch=epoch,
            versions=package_versions() if versions is None else dict(versions),
            params=dict(params or {}),
            tags=dict(tags or {}),
        )
        rec = cls(os.path.join(os.fspath(runs_dir), f"{run_id}.jsonl"), run_id, parent=_parent,
                  fsync=fsync, _first=start)
        if parent_run_id is not None and _parent is None:
            rec.parent_run_id = parent_run_id
        return rec

    @property
    def runs_dir(self) -> Path:
        return Path(os.path.dirname(self._path))

    @property
    def closed(self) -> bool:
        return self._fd is None

    def _stamp(self, event: Event) -> bytes:
        """Stamp an event (run id, next seq), count it, and encode it (redacted)."""
        event.run_id = self.run_id
        event.seq = next(self._seq)
        data = self._encoder.encode(event).encode("utf-8")
        self._totals.add(event)
        return data

    def _write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        if self._fsync:
            os.fsync(fd)

    def emit(self, event: Event) -> Event:
        """Stamp, redact and append one event; returns it (stamped)."""
        with self._lock:
            if self._fd is None:
                raise RuntimeError(f"run {self.run_id} is finished; cannot record {event.type}")
            self._write(self._fd, self._stamp(event))
        if self.parent is not None:
            self.parent._add_from_child(event)
        return event

    def _add_from_child(self, event: Event) -> None:
        with self._lock:
            self._totals.add(event)
        if self.parent is not None:
            self.parent._add_from_child(event)

    def child(self, solver: str, **start: Any) -> Recorder:
        """A nested run (same directory, `parent_run_id` = this run)."""
        start.pop("parent_run_id", None)
        rec = Recorder.start(self.runs_dir, solver=solver, fsync=self._fsync, _parent=self, **start)
        with self._lock:
            self.children.append(rec)
        self.emit(NoteEvent(kind=CHILD_NOTE, data={"run_id": rec.run_id, "solver": solver}))
        return rec

    def totals(self) -> dict[str, Any]:
        """The totals so far (this run and its children), as `RunEnd` fields."""
        return self._totals.run_end_fields()

    @property
    def run_totals(self) -> RunTotals:
        """A copy of the totals so far (this run and its children)."""
        with self._lock:
            return dataclasses.replace(self._totals)

    def finish(
        self,
        status: RunStatus = "completed",
        answer: Any = None,
        error: str | None = None,
        stop_reason: str | None = None,
        *,
        duration_s: float | None = None,
        **totals: Any,
    ) -> RunEnd:
        """Write `RunEnd` with the run's totals and close the file.

        `answer` may be a string or a `forgekit.core.Answer`. Totals not given are computed
        from the recorded events (children included). Finishing twice returns the first end.
        """
        if self.end is not None:
            return self.end
        if answer is not None and not isinstance(answer, str):
            stop_reason = stop_reason or getattr(answer, "stop_reason", None)
            answer = getattr(answer, "text", str(answer))
        # totals given in full (the eval runner's tally) need not be counted again here
        fields = totals if totals.keys() >= RUN_END_KEYS else {**self.totals(), **totals}
        end = RunEnd(
            status=status,
            answer=answer,
            error=error,
            stop_reason=stop_reason,
            duration_s=time.monotonic() - self._t0 if duration_s is None else duration_s,
            **fields,
        )
        self.emit(end)
        self.end = end
        self.close()
        return end

    def close(self) -> None:
        """Close the file. A run closed without `finish()` is ended as `interrupted`."""
        if self._fd is None:
            return
        if self.end is None:
            self.finish(status="interrupted")
            return
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        # a recorder dropped without finish(): release the descriptor, write nothing (the
        # file then reads as an interrupted run, as after a crash)
        fd = getattr(self, "_fd", None)
        if fd is not None:
            self._fd = None
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            self.finish()
        elif isinstance(exc, KeyboardInterrupt):
            self.finish(status="interrupted", error="KeyboardInterrupt")
        else:
            status: RunStatus = "budget-exceeded" if type(exc).__name__ == "BudgetExceeded" else "failed"
            self.finish(status=status, error=f"{type(exc).__name__}: {exc}")

    def __repr__(self) -> str:
        return f"Recorder(run_id={self.run_id!r}, path={str(self.path)!r})"
