"""The model gateway: the one road from forgekit to any model (minimal first version)."""

from __future__ import annotations

import os
import time
from typing import Any

from forgekit.core.config import ProjectConfig, load_config
from forgekit.core.context import EventSink
from forgekit.core.events import ModelCall
from forgekit.core.messages import Message, ModelResponse, as_messages
from forgekit.core.redact import redact_text
from forgekit.core.sync import run_sync
from forgekit.models.sources import CompletionRequest, CompletionSource, LiteLLMSource


class Gateway:
    """Resolves aliases, calls a completion source, prices and records the call."""

    def __init__(self, config: ProjectConfig | None = None, *,
                 source: CompletionSource | None = None) -> None:
        self.config = config or load_config()
        self.source: CompletionSource = source or LiteLLMSource()

    def resolve(self, model: str | None = None, task_class: str | None = None) -> str:
        """The alias a call goes to: the named one, else routing by task class, else default."""
        if model:
            self.config.alias(model)
            return model
        routing = self.config.models.routing
        if task_class and task_class in routing:
            return routing[task_class]
        return routing.get("default", self.config.models.default)

    def _request(self, alias: str, messages: list[Message], tools: list[dict] | None,
                 params: dict[str, Any], call_key: dict[str, Any] | None) -> CompletionRequest:
        cfg = self.config.alias(alias)
        merged = {**cfg.params, **params}
        key = os.environ.get(cfg.api_key_env) if cfg.api_key_env else None
        return CompletionRequest(alias=alias, model=cfg.model, messages=messages, tools=tools,
                                 params=merged, api_base=cfg.api_base, api_key=key,
                                 timeout_s=cfg.timeout_s, call_key=dict(call_key or {}))

    def price(self, alias: str, response: ModelResponse) -> float:
        cfg = self.config.alias(alias)
        if cfg.price is not None:
            return (response.usage.input_tokens * cfg.price.input_per_1k
                    + response.usage.output_tokens * cfg.price.output_per_1k) / 1000.0
        if cfg.embedded:
            return 0.0
        return 0.0

    async def acomplete(self, messages: list[Message] | str, *, model: str | None = None,
                        tools: list[dict[str, Any]] | None = None,
                        sink: EventSink | None = None, budget: Any = None,
                        call_key: dict[str, Any] | None = None,
                        task_class: str | None = None, **params: Any) -> ModelResponse:
        alias = self.resolve(model, task_class)
        msgs = as_messages(messages)
        request = self._request(alias, msgs, tools, params, call_key)
        t0 = time.perf_counter()
        error: str | None = None
        try:
            response = await self.source.complete(request)
        except Exception as e:
            error = redact_text(f"{type(e).__name__}: {e}")
            if sink is not None:
                sink.emit(ModelCall(alias=alias, model=request.model, messages=msgs, tools=tools,
                                    params=request.params, error=error,
                                    latency_s=time.perf_counter() - t0,
                                    call_key=request.call_key))
            raise
        response.latency_s = time.perf_counter() - t0
        response.alias = alias
        response.cost_usd = self.price(alias, response)
        if sink is not None:
            sink.emit(ModelCall(
                alias=alias, model=response.model or request.model, messages=msgs, tools=tools,
                params=request.params, text=response.text, tool_calls=response.tool_calls,
                usage=response.usage, cost_usd=response.cost_usd, latency_s=response.latency_s,
                cached=response.cached, retries=response.retries,
                finish_reason=response.finish_reason, call_key=request.call_key))
        return response

    def complete(self, messages: list[Message] | str, **kwargs: Any) -> ModelResponse:
        """Sync form of `acomplete`; works in scripts and inside a running notebook loop."""
        return run_sync(self.acomplete(messages, **kwargs))
