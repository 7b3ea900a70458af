"""Async inside, sync at the edge: run a coroutine from plain code or a Jupyter cell."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _Box:
    """Holds a coroutine's result with a constant repr. `asyncio.run` (3.11) formats the
    main task, result included, when it checks its SIGINT handler on the way out: a
    result with an expensive repr (an `EvalResults` prints its statistics table) would
    be computed for nothing."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


async def _boxed(coro: Coroutine[Any, Any, T]) -> _Box:
    return _Box(await coro)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion and return its result.

    With no running event loop this is `asyncio.run`. Inside a running loop (a Jupyter
    cell, an async framework) it runs the coroutine on a fresh loop in a helper thread
    and waits, so the caller's loop is never re-entered (no nest_asyncio needed).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_boxed(coro)).value

    result: dict[str, Any] = {}
    ctx = contextvars.copy_context()

    def runner() -> None:
        try:
            result["value"] = ctx.run(asyncio.run, coro)
        except BaseException as e:  # re-raised in the caller's thread
            result["error"] = e

    t = threading.Thread(target=runner, name="forgekit-run-sync", daemon=True)
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result["value"]
