"""`Model`: the small handle a notebook user types, over a process-wide default gateway.

Example:
    >>> from forgekit.models import Model
    >>> m = Model("local", max_tokens=32)            # doctest: +SKIP
    >>> m.complete("What is 2+2?").text              # doctest: +SKIP
    'The answer is: 4'
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

from forgekit.core.messages import Message, ModelResponse
from forgekit.core.sync import run_sync
from forgekit.models.budget import Budget
from forgekit.models.gateway import Gateway

_default: Gateway | None = None
_lock = threading.Lock()


def default_gateway() -> Gateway:
    """The process-wide gateway on the project config (closed at exit)."""
    global _default
    with _lock:
        if _default is None or _default.closed:
            _default = Gateway()
            atexit.register(_default.close)
        return _default


class Model:
    """One alias with default parameters, callable sync or async.

    Args:
        alias: a configured alias (None: the routed/default one).
        gateway: the gateway to use (default: the process-wide one).
        budget: a budget every call of this handle is held to.
        task_class: route by task class when `alias` is None.
        **params: default sampling parameters (temperature, max_tokens, ...).
    """

    def __init__(
        self,
        alias: str | None = None,
        *,
        gateway: Gateway | None = None,
        budget: Budget | None = None,
        task_class: str | None = None,
        **params: Any,
    ) -> None:
        self._gateway = gateway
        self.budget = budget
        self.task_class = task_class
        self.params = params
        self.alias = alias
        if alias is not None:
            self.gateway.config.alias(alias)  # unknown alias: fail here, clearly

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            self._gateway = default_gateway()
        return self._gateway

    async def acomplete(self, messages: list[Message] | str, **kwargs: Any) -> ModelResponse:
        """One completion (async)."""
        merged = {**self.params, **kwargs}
        merged.setdefault("budget", self.budget)
        merged.setdefault("task_class", self.task_class)
        return await self.gateway.acomplete(messages, model=self.alias, **merged)

    def complete(self, messages: list[Message] | str, **kwargs: Any) -> ModelResponse:
        """One completion (sync; also inside a running notebook loop)."""
        return run_sync(self.acomplete(messages, **kwargs))

    def __repr__(self) -> str:
        return f"Model({self.alias or self.gateway.resolve(None, self.task_class)!r})"
