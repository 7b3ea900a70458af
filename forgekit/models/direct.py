"""The lean road to OpenAI-compatible servers: chat completions over one connection pool.

litellm costs ~5-11 ms of CPU a call, which caps a process at ~100 calls/s against a
local vLLM, llama.cpp, Ollama or LM Studio server that could answer ten times more
(`benchmarks/runner`). `DirectSource` speaks the chat-completions wire format itself,
over a small HTTP/1.1 client of its own (`forgekit.models.http_client`: aiohttp's
request machinery alone cost ~0.3 ms a call): one JSON body out, one JSON body in. Everything else the gateway
promises (retries with Retry-After, timeouts, fallbacks, circuit breaker, cache,
budgets, prices, records) lives above sources and applies unchanged.

The gateway uses it on its own for aliases that speak the OpenAI API at an `api_base`
(the embedded llama.cpp server; `openai/<name>`, `hosted_vllm/<name>`,
`lm_studio/<name>` with an `api_base`), or for any alias with ``transport: direct``;
``transport: litellm`` keeps an alias on litellm.

Connections belong to an event loop: one pool per loop, closed with the loop
(`asyncio.run` closes async generators on the way out, and one holds the pool).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from forgekit.core.config import AliasConfig
from forgekit.core.messages import ModelResponse, Usage
from forgekit.models.http_client import ConnectionPool
from forgekit.models.sources import CompletionRequest, _parse_tool_calls

# litellm providers whose servers speak OpenAI's chat completions at their api_base
OPENAI_COMPATIBLE = frozenset({"openai", "hosted_vllm", "lm_studio", "llamafile", "openai_like"})
# keyword arguments litellm accepts that are not part of the wire format
_LITELLM_ONLY = frozenset(
    {"drop_params", "num_retries", "mock_response", "metadata", "caching", "api_version",
     "custom_llm_provider", "_skip_mcp_handler", "timeout"}
)
NO_KEY = "sk-no-key-required"


def provider_of(model: str) -> str:
    """The litellm provider prefix of a model string (``openai`` when there is none)."""
    return model.split("/", 1)[0] if "/" in model else "openai"


def wire_model(model: str) -> str:
    """The model name the server is asked for: the litellm string less its provider."""
    return model.split("/", 1)[1] if provider_of(model) in OPENAI_COMPATIBLE and "/" in model else model


def uses_direct(cfg: AliasConfig) -> bool:
    """Whether an alias goes through the lean source: ``transport: direct``, or
    ``auto`` (the default) on an OpenAI-compatible server at a known address."""
    if cfg.transport == "direct":
        return True
    if cfg.transport == "litellm":
        return False
    if cfg.embedded:
        return True
    return (
        bool(cfg.api_base)
        and provider_of(cfg.model) in OPENAI_COMPATIBLE
        and not behind_proxy(str(cfg.api_base))
    )


def behind_proxy(url: str) -> bool:
    """Whether the environment routes `url` through a proxy (HTTP(S)_PROXY / ALL_PROXY, not
    excluded by NO_PROXY). The lean client does not speak to proxies, so `auto` leaves such
    an alias on litellm, which does; a loopback server is never proxied."""
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.startswith("127.") or host == "::1":
        return False
    proxies = urllib.request.getproxies_environment()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(host)  # NO_PROXY (and the OS settings on macOS)


class HTTPStatusError(Exception):
    """A non-2xx reply from an OpenAI-compatible server (classified like litellm's)."""

    def __init__(
        self, status_code: int, message: str, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code
        self.retry_after_s = retry_after_s


class MalformedResponseError(Exception):
    """A 2xx reply whose body is not a chat completion (cut short, not JSON, no
    choices). Retried: servers and proxies produce these when they are overloaded."""


def _error_message(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    try:
        body = json.loads(text)
        err = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(err, dict):
            return str(err.get("message") or err)[:500]
        return str(err)[:500]
    except (json.JSONDecodeError, AttributeError):
        return text[:500] or "(empty body)"


def _retry_after(headers: Any) -> float | None:
    from forgekit.models.retry import retry_after_of

    class _Carrier(Exception):
        pass

    carrier = _Carrier()
    # retry_after_of reads the headers where litellm leaves them on its exceptions
    carrier.litellm_response_headers = headers  # type: ignore[attr-defined]
    return retry_after_of(carrier)


def response_format_body(value: Any) -> Any:
    """`response_format` as the wire wants it: a pydantic model class becomes a strict
    JSON schema (as litellm does); dicts pass through."""
    schema = getattr(value, "model_json_schema", None)
    if isinstance(value, type) and callable(schema):
        return {
            "type": "json_schema",
            "json_schema": {"name": value.__name__, "schema": schema(), "strict": True},
        }
    return value


def llama_cpp_response_format(value: Any) -> Any:
    """llama-cpp-python's server (the embedded model) takes a schema only in the form
    ``{"type": "json_object", "schema": ...}`` and refuses ``json_schema`` (422)."""
    value = response_format_body(value)
    if isinstance(value, dict) and value.get("type") == "json_schema":
        schema = (value.get("json_schema") or {}).get("schema")
        return {"type": "json_object", **({"schema": schema} if schema else {})}
    return value


def parse_completion(raw: bytes, model: str) -> ModelResponse:
    """A chat-completion body as a ModelResponse; MalformedResponseError if it is not one."""
    try:
        body = json.loads(raw)
        choice = body["choices"][0]
        msg = choice["message"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, IndexError, TypeError) as e:
        snippet = raw[:120].decode("utf-8", "replace")
        raise MalformedResponseError(
            f"the server's reply is not a chat completion ({type(e).__name__}): {snippet!r}"
        ) from None
    usage = body.get("usage") or {}
    return ModelResponse(
        text=msg.get("content") or "",
        tool_calls=_parse_tool_calls(msg.get("tool_calls")),
        usage=Usage(
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
        ),
        model=body.get("model") or model,
        finish_reason=choice.get("finish_reason"),
    )


async def _pool_keeper(pool: ConnectionPool, pools: dict[int, Any], key: int) -> Any:
    """Holds a loop's pool; `asyncio.run` finalises it (and so closes the pool) on exit."""
    try:
        yield
    finally:
        pools.pop(key, None)
        await pool.close()


class DirectSource:
    """Answers OpenAI-compatible chat completions over kept-alive HTTP/1.1 connections
    (`forgekit.models.http_client`; see the module doc).

    Args:
        pool_size: the most connections open at once per event loop (the gateway's
            per-alias concurrency is the real limit; this only bounds the pool).
    """

    needs_endpoint = True

    def __init__(self, pool_size: int = 1024) -> None:
        self.pool_size = pool_size
        self._pools: dict[int, Any] = {}  # id(loop) -> (pool, keeper, loop)

    async def _pool(self) -> ConnectionPool:
        loop = asyncio.get_running_loop()
        entry = self._pools.get(id(loop))
        if entry is not None and entry[2] is loop and not entry[0].closed:
            pool: ConnectionPool = entry[0]
            return pool
        pool = ConnectionPool(limit=self.pool_size)
        keeper = _pool_keeper(pool, self._pools, id(loop))
        await keeper.__anext__()  # now the loop knows it, and closes it at shutdown
        self._pools[id(loop)] = (pool, keeper, loop)
        return pool

    def body(self, request: CompletionRequest) -> dict[str, Any]:
        """The JSON body of a request."""
        body: dict[str, Any] = {
            "model": wire_model(request.model),
            "messages": request.openai_messages(),
        }
        for k, v in request.params.items():
            if k in _LITELLM_ONLY or v is None:
                continue
            body[k] = response_format_body(v) if k == "response_format" else v
        if request.tools:
            body["tools"] = request.tools
        return body

    async def complete(self, request: CompletionRequest) -> ModelResponse:
        if not request.api_base:
            raise MalformedResponseError(f"alias {request.alias!r} has no api_base")
        pool = await self._pool()
        headers = {"Content-Type": "application/json"}
        if request.api_key and request.api_key != NO_KEY:
            headers["Authorization"] = f"Bearer {request.api_key}"
        url = request.api_base.rstrip("/") + "/chat/completions"
        data = json.dumps(self.body(request)).encode()
        resp = await pool.post(url, data, headers, request.timeout_s)
        if resp.status >= 300:
            raise HTTPStatusError(resp.status, _error_message(resp.body), _retry_after(resp.headers))
        return parse_completion(resp.body, request.model)

    async def aclose(self) -> None:
        """Close the pool of the running loop (others close with their loops)."""
        try:
            key = id(asyncio.get_running_loop())
        except RuntimeError:
            return
        entry = self._pools.pop(key, None)
        if entry is not None:
            await entry[0].close()
            await entry[1].aclose()
