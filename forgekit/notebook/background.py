"""Run long work off the kernel's thread, so a notebook stays responsive.

`run_in_background(work)` starts a coroutine (or a plain function) in a worker thread
with its own event loop and returns at once; widgets it feeds (a `RunDashboard`, an
`ApprovalPrompt`) update while it runs, and their buttons keep working.

Example:
    >>> dash = RunDashboard("gsm8k")                                          # doctest: +SKIP
    >>> job = run_in_background(aevaluate(suite, gw, on_record=dash.record))  # doctest: +SKIP
    >>> dash; job.result()   # later                                          # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Callable, Coroutine
from html import escape
from typing import Any


class BackgroundRun:
    """A handle on work running in a worker thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.future: concurrent.futures.Future = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self.thread: threading.Thread | None = None

    def done(self) -> bool:
        return self.future.done()

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the result (re-raises the work's exception)."""
        return self.future.result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        return self.future.exception(timeout)

    def cancel(self) -> bool:
        """Cancel coroutine work (plain functions cannot be cancelled)."""
        if self._loop is not None and self._task is not None and not self._task.done():
            self._loop.call_soon_threadsafe(self._task.cancel)
            return True
        return False

    @property
    def status(self) -> str:
        if not self.future.done():
            return "running"
        err = self.future.exception()
        if isinstance(err, concurrent.futures.CancelledError):
            return "cancelled"
        return "failed" if err is not None else "completed"

    def _repr_html_(self) -> str:
        return f"<div>background run <b>{escape(self.name)}</b>: {escape(self.status)}</div>"

    def __repr__(self) -> str:
        return f"BackgroundRun({self.name!r}, {self.status})"


def run_in_background(
    work: Coroutine[Any, Any, Any] | Callable[[], Any], *, name: str = "forgekit-background"
) -> BackgroundRun:
    """Start `work` in a daemon thread and return a `BackgroundRun` at once.

    Args:
        work: a coroutine, an async function taking no arguments, or a plain function.
        name: the thread's name (shown in the handle).
    """
    run = BackgroundRun(name)

    async def main(coro: Coroutine[Any, Any, Any]) -> Any:
        run._loop = asyncio.get_running_loop()
        run._task = asyncio.current_task()
        return await coro

    def body() -> None:
        if not run.future.set_running_or_notify_cancel():
            return
        try:
            if not callable(work):  # a coroutine
                value = asyncio.run(main(work))
            elif inspect.iscoroutinefunction(work):
                value = asyncio.run(main(work()))
            else:
                value = work()
        except asyncio.CancelledError:
            run.future.set_exception(concurrent.futures.CancelledError(f"{name} cancelled"))
            return
        except BaseException as e:
            run.future.set_exception(e)
            return
        run.future.set_result(value)

    run.thread = threading.Thread(target=body, name=name, daemon=True)
    run.thread.start()
    return run
