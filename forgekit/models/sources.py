"""Completion sources: where the gateway's requests are finally answered.

`LiteLLMSource` is the real road (cloud providers, Ollama, vLLM, the embedded llama.cpp
server); `ScriptedSource` answers from a script (tests); the trajectory layer adds a
replay source. Retries, cache, budget and recording live in the gateway, above sources.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from forgekit.core.messages import Message, ModelResponse, ToolCall, Usage


@dataclass
class CompletionRequest:
    """One resolved request: alias already turned into a litellm model and endpoint."""

    alias: str
    model: str
    messages: list[Message]
    tools: list[dict[str, Any]] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 120.0
    call_key: dict[str, Any] = field(default_factory=dict)

    def openai_messages(self) -> list[dict[str, Any]]:
        return [m.to_openai() for m in self.messages]


@runtime_checkable
class CompletionSource(Protocol):
    async def complete(self, request: CompletionRequest) -> ModelResponse: ...


def _parse_tool_calls(raw: Any) -> list[ToolCall]:
    out: list[ToolCall] = []
    for i, tc in enumerate(raw or []):
        fn = tc.get("function", {}) if isinstance(tc, dict) else getattr(tc, "function", None)
        name = fn.get("name") if isinstance(fn, dict) else getattr(fn, "name", "")
        args = fn.get("arguments") if isinstance(fn, dict) else getattr(fn, "arguments", "")
        tc_id = tc.get("id") if isinstance(tc, dict) else getattr(tc, "id", None)
        parsed: dict[str, Any] | str
        if isinstance(args, dict):
            parsed = args
        else:
            try:
                parsed = json.loads(args or "{}")
                if not isinstance(parsed, dict):
                    parsed = args or ""
            except (json.JSONDecodeError, TypeError):
                parsed = args or ""
        out.append(ToolCall(id=tc_id or f"call_{i}", name=name or "", arguments=parsed))
    return out


class LiteLLMSource:
    """Answers through `litellm.acompletion` (imported on first use: it costs ~2 s)."""

    # the gateway starts the embedded server and uses the cache only for real endpoints
    needs_endpoint = True

    def __init__(self) -> None:
        self._litellm: Any = None

    def _lib(self) -> Any:
        if self._litellm is None:
            from forgekit.models.pricing import litellm_module

            self._litellm = litellm_module()
        return self._litellm

    async def complete(self, request: CompletionRequest) -> ModelResponse:
        litellm = self._lib()
        kwargs: dict[str, Any] = dict(request.params)
        if request.tools:
            kwargs["tools"] = request.tools
            # litellm 1.106 probes tools for its MCP gateway, importing the optional `mcp`
            # package (absent: APIConnectionError); plain function tools never need it
            kwargs["_skip_mcp_handler"] = True
        if request.api_base:
            kwargs["api_base"] = request.api_base
        if request.api_key:
            kwargs["api_key"] = request.api_key
        resp = await litellm.acompletion(
            model=request.model,
            messages=request.openai_messages(),
            timeout=request.timeout_s,
            num_retries=0,  # the gateway retries, with its own backoff and breaker
            **kwargs,
        )
        choice = resp.choices[0]
        msg = choice.message
        usage = getattr(resp, "usage", None)
        return ModelResponse(
            text=msg.content or "",
            tool_calls=_parse_tool_calls(getattr(msg, "tool_calls", None)),
            usage=Usage(
                input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                output_tokens=getattr(usage, "completion_tokens", 0) or 0,
            ),
            model=getattr(resp, "model", None) or request.model,
            finish_reason=getattr(choice, "finish_reason", None),
        )


Script = str | ModelResponse | Exception | Callable[[CompletionRequest], Any]


class ScriptedSource:
    """Answers from a script, for exact control in tests.

    Each entry is a reply text, a ModelResponse, an exception to raise, or a function of
    the request returning any of those. Entries are used in order; `cycle=True` repeats.
    Every request is kept in `requests`.
    """

    def __init__(
        self,
        script: Sequence[Script] | Callable[[CompletionRequest], Any],
        *,
        cycle: bool = False,
        delay_s: float = 0.0,
    ) -> None:
        self._fn = script if callable(script) else None
        self._script = list(script) if not callable(script) else []
        self._cycle = cycle
        self._delay = delay_s
        self._i = 0
        self.requests: list[CompletionRequest] = []

    async def complete(self, request: CompletionRequest) -> ModelResponse:
        self.requests.append(request)
        if self._delay:
            await asyncio.sleep(self._delay)
        if self._fn is not None:
            entry: Any = self._fn(request)
        else:
            if self._i >= len(self._script):
                if not self._cycle or not self._script:
                    raise RuntimeError(f"ScriptedSource ran out of replies after {self._i} calls")
                self._i = 0
            entry = self._script[self._i]
            self._i += 1
            if callable(entry) and not isinstance(entry, (ModelResponse, Exception)):
                entry = entry(request)
        if isinstance(entry, Exception):
            raise entry
        if isinstance(entry, ModelResponse):
            return entry.model_copy(deep=True)
        text = str(entry)
        words = sum(len((m.content or "").split()) for m in request.messages)
        return ModelResponse(
            text=text,
            model=request.model,
            usage=Usage(input_tokens=words, output_tokens=len(text.split())),
        )
