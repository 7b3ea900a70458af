"""Async inside, sync at the edge: run a coroutine from plain code or a Jupyter cell."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion and return its result.

    With no running event loop this is `asyncio.run`. Inside a running loop (a Jupyter
    cell, an async framework) it runs the coroutine on a fresh loop in a helper thread
    and waits, so the caller's loop is never re-entered (no nest_asyncio needed).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)

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
