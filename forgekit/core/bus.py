"""A small event bus: hooks for run start, steps, model queries, tool calls, run end.

Subscribers may be sync or async. A failing subscriber is reported (logged and kept in
`errors`), never fatal to the run.
"""

from __future__ import annotations

import inspect
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger("forgekit.bus")

HOOKS = ("on_run_start", "on_step_done", "on_model_query", "on_tool_call", "on_run_end", "on_event",
         "on_status")  # on_status: a graph or workflow's live state (per node / stage)


class EventBus:
    def __init__(self) -> None:
        self._subs: dict[str, list[Callable[..., Any]]] = defaultdict(list)
        self.errors: list[tuple[str, str]] = []

    def subscribe(self, hook: str, fn: Callable[..., Any]) -> Callable[[], None]:
        """Register `fn` for `hook`; returns a function that unsubscribes it."""
        if hook not in HOOKS:
            raise ValueError(f"unknown hook {hook!r}; expected one of {', '.join(HOOKS)}")
        self._subs[hook].append(fn)
        return lambda: self._subs[hook].remove(fn)

    async def publish(self, hook: str, *args: Any, **kwargs: Any) -> None:
        for fn in list(self._subs.get(hook, ())):
            try:
                result = fn(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception as e:  # a subscriber never breaks the run
                name = getattr(fn, "__qualname__", repr(fn))
                self.errors.append((hook, f"{name}: {type(e).__name__}: {e}"))
                log.warning("hook %s subscriber %s failed: %s", hook, name, e)

    def publish_sync(self, hook: str, *args: Any, **kwargs: Any) -> None:
        """Publish to sync subscribers only (async ones are skipped with a report)."""
        for fn in list(self._subs.get(hook, ())):
            try:
                result = fn(*args, **kwargs)
                if inspect.isawaitable(result):
                    getattr(result, "close", lambda: None)()  # a coroutine never awaited
                    raise TypeError("async subscriber called from a sync publish")
            except Exception as e:
                name = getattr(fn, "__qualname__", repr(fn))
                self.errors.append((hook, f"{name}: {type(e).__name__}: {e}"))
                log.warning("hook %s subscriber %s failed: %s", hook, name, e)
