"""The model gateway: the one road from forgekit to any model.

`Gateway.acomplete` resolves an alias (or routes a task class to one), answers from the
response cache when it can, holds the call to its budget, sends it through the completion
source with retries, backoff and a circuit breaker per endpoint, falls back along the
configured chain, prices it and records one `ModelCall` event in the run's sink.

Example:
    >>> from forgekit.models import Gateway
    >>> with Gateway() as gw:                      # doctest: +SKIP
    ...     print(gw.complete("What is 2+2?", model="local", max_tokens=16).text)
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from typing import Any

from forgekit.core.config import AliasConfig, ProjectConfig, load_config
from forgekit.core.context import EventSink, SpendLimit
from forgekit.core.errors import (
    ConfigError,
    ForgekitError,
    ModelError,
    ModelUnavailable,
)
from forgekit.core.events import ModelCall
from forgekit.core.messages import Message, ModelResponse, as_messages
from forgekit.core.redact import redact, redact_text, register_secret_env, secret_values
from forgekit.core.sync import run_sync
from forgekit.models.budget import Budget, Reservation
from forgekit.models.cache import ResponseCache, cache_key
from forgekit.models.circuit import CircuitBreaker
from forgekit.models.concurrency import OVERLOAD_STATUS, AdaptiveLimit
from forgekit.models.direct import (
    OPENAI_COMPATIBLE,
    DirectSource,
    llama_cpp_response_format,
    provider_of,
    uses_direct,
)
from forgekit.models.local_server import DUMMY_KEY, LocalServer, shared_server
from forgekit.models.pricing import cost_of, count_prompt_tokens, rates_for, tell_litellm_price
from forgekit.models.retry import RetryPolicy, classify
from forgekit.models.sources import CompletionRequest, CompletionSource, LiteLLMSource


def endpoint_of(cfg: AliasConfig, api_base: str | None) -> str:
    """The circuit-breaker key of an alias: its api_base, else its provider."""
    if api_base:
        return api_base.rstrip("/")
    return cfg.model.split("/", 1)[0] if "/" in cfg.model else "openai"


def _is_model_failure(exc: BaseException) -> bool:
    """Failures of the model service (translated into ModelError), as opposed to bugs or
    forgekit's own errors, which pass through untouched."""
    if isinstance(exc, ModelError):
        return True
    if isinstance(exc, ForgekitError):
        return False
    if getattr(exc, "status_code", None) is not None:
        return True
    mod = type(exc).__module__
    return mod.startswith(
        ("litellm", "openai", "httpx", "aiohttp", "httpcore", "forgekit.models.direct",
         "forgekit.models.http_client")
    ) or isinstance(
        exc, (TimeoutError, ConnectionError)
    )


def _redact_request(msgs: list[Message]) -> list[Message]:
    """Nothing forgekit knows to be a secret goes to a provider: a tool output, a file or a
    user message holding a key's value is sent with the value replaced (copies only of the
    messages that change)."""
    secrets = secret_values()
    out = []
    for m in msgs:
        text = redact_text(m.content, secrets) if m.content else m.content
        calls = m.tool_calls
        if calls:
            args = [redact(tc.arguments, secrets) for tc in calls]
            if any(a != tc.arguments for a, tc in zip(args, calls, strict=True)):
                calls = [tc.model_copy(update={"arguments": a}) for a, tc in zip(args, calls,
                                                                                 strict=True)]
        if text != m.content or calls is not m.tool_calls:
            m = m.model_copy(update={"content": text, "tool_calls": calls})
        out.append(m)
    return out


def _redact_response(response: ModelResponse) -> None:
    """A model may echo a secret it saw: strip secrets from what it said, in place."""
    secrets = secret_values()
    response.text = redact_text(response.text, secrets)
    for tc in response.tool_calls:
        tc.arguments = redact(tc.arguments, secrets)


class Gateway:
    """Resolves aliases, calls a completion source, prices, caches and records the call.

    Args:
        config: the project config (default: `load_config()`).
        source: where requests are answered. Default: the real road, per alias —
            `DirectSource` (the OpenAI wire format over HTTP/1.1) for OpenAI-compatible
            servers with an api_base (or ``transport: direct``), litellm for the rest.
            A source given here answers every alias.
        cache: a ResponseCache, or True/False to force caching on/off. By default the
            cache (``config.cache``) is used with the litellm source only: scripted and
            replay sources answer deterministically anyway.
        retry: the backoff policy (default: 0.5 s base, full jitter, Retry-After honoured).
        budget: a default budget for calls that do not pass one.
    """

    def __init__(
        self,
        config: ProjectConfig | None = None,
        *,
        source: CompletionSource | None = None,
        cache: ResponseCache | bool | None = None,
        retry: RetryPolicy | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.config = config or load_config()
        register_secret_env(*(a.api_key_env for a in self.config.models.aliases.values()
                              if a.api_key_env))  # fmt: skip
        self.source: CompletionSource = source or LiteLLMSource()
        # with the default source, OpenAI-compatible aliases take the lean road
        self._auto = source is None
        self._direct: DirectSource | None = None
        # the source each alias resolved to, with the config it was decided for (the
        # decision reads the environment's proxies: once per alias, not once per call)
        self._routes: dict[str, tuple[AliasConfig, CompletionSource]] = {}
        self._real = bool(getattr(self.source, "needs_endpoint", False))
        if isinstance(cache, ResponseCache):
            self.cache = cache
        else:
            on = self.config.cache.enabled and (cache if cache is not None else self._real)
            self.cache = ResponseCache(self.config.path(self.config.cache.dir), enabled=on)
        self.retry = retry or RetryPolicy()
        self.budget = budget
        self.breaker = CircuitBreaker(
            self.config.circuit.failure_threshold, self.config.circuit.reset_after_s
        )
        self._local: LocalServer | None = None
        self._semaphores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._limits: dict[str, AdaptiveLimit] = {}  # AIMD per alias (max_concurrency)
        # the longest reply seen per alias: the output estimate of calls without max_tokens
        self._longest_reply: dict[str, int] = {}
        self.calls = 0
        self.retries = 0
        self.closed = False

    # ---- resolution ------------------------------------------------------------------
    def resolve(self, model: str | None = None, task_class: str | None = None) -> str:
        """The alias a call goes to: the named one, else routing by task class, else
        the `default` route, else `models.default`. Raises UnknownAlias (a ConfigError
        naming the file and key) for an alias that is not configured."""
        if model:
            self.config.alias(model)
            return model
        routing = self.config.models.routing
        if task_class and task_class in routing:
            return routing[task_class]
        return routing.get("default", self.config.models.default)

    def local_server(self) -> LocalServer:
        """The embedded llama.cpp server this gateway uses (shared in the process)."""
        if self._local is None:
            server = shared_server(
                self.config.models.local_server, self.config.path(".forgekit/logs")
            )
            server.users += 1
            self._local = server
        return self._local

    async def _endpoint(self, cfg: AliasConfig) -> tuple[str | None, str | None]:
        """(api_base, api_key) of an alias; starts the embedded server when needed."""
        if cfg.embedded and self._real and not cfg.api_base:
            if self.closed:
                raise ModelUnavailable("this gateway is closed", alias="local")
            return await self.local_server().aensure_started(), DUMMY_KEY
        key = os.environ.get(cfg.api_key_env) if cfg.api_key_env else None
        if key is None and cfg.api_base and provider_of(cfg.model) in OPENAI_COMPATIBLE:
            # a keyless local server (vLLM, llama.cpp, Ollama): litellm refuses an
            # openai/ model without a key, so give it what it would find, or a placeholder
            key = os.environ.get("OPENAI_API_KEY") if provider_of(cfg.model) == "openai" else None
            key = key or DUMMY_KEY
        return cfg.api_base, key

    def source_for(self, cfg: AliasConfig, alias: str = "") -> CompletionSource:
        """The source that answers an alias: the one given to the gateway, else the lean
        direct source for OpenAI-compatible servers, else litellm."""
        hit = self._routes.get(alias)
        if hit is not None and hit[0] is cfg:
            return hit[1]
        source = self.source
        if self._auto and uses_direct(cfg):
            if not cfg.api_base and not cfg.embedded:
                raise ConfigError(
                    f"alias {alias!r} uses transport: direct but has no api_base (model "
                    f"{cfg.model!r}); give it the server's api_base, or use transport: "
                    "litellm",
                    file=self.config.source, key=f"models.aliases.{alias}.transport",
                )
            if self._direct is None:
                self._direct = DirectSource()
            source = self._direct
        self._routes[alias] = (cfg, source)
        return source

    def supports_response_schema(self, model: str | None = None) -> bool:
        """Whether calls to an alias (default: the default route) may carry a JSON-schema
        `response_format` that the endpoint enforces: the alias's `response_schema`, else
        True on the direct road (llama.cpp, vLLM and LM Studio enforce it by grammar),
        else litellm's knowledge of the model."""
        cfg = self.config.alias(self.resolve(model))
        if cfg.response_schema is not None:
            return cfg.response_schema
        if uses_direct(cfg):
            return True
        try:
            from forgekit.models.pricing import litellm_module

            return bool(litellm_module().supports_response_schema(model=cfg.model))
        except Exception:
            return False

    def price(self, alias: str, response: ModelResponse) -> float:
        """USD cost of a response under the alias's pricing."""
        return cost_of(self.config.alias(alias), response.usage)

    def _semaphore(self, alias: str, limit: int) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        per_loop = self._semaphores.get(loop)
        if per_loop is None:
            per_loop = self._semaphores[loop] = {}
        sem = per_loop.get(alias)
        if sem is None:
            sem = per_loop[alias] = asyncio.Semaphore(limit)
        return sem

    def _adaptive(self, alias: str, cfg: AliasConfig) -> AdaptiveLimit:
        limiter = self._limits.get(alias)
        if limiter is None:
            ceiling = cfg.max_concurrency or 1
            limiter = self._limits[alias] = AdaptiveLimit(
                cfg.concurrency or max(cfg.min_concurrency, ceiling // 4),
                floor=cfg.min_concurrency,
                ceiling=ceiling,
            )
        return limiter

    def concurrency(self) -> dict[str, dict[str, Any]]:
        """The adaptive limit of every alias that has one (start, current, low, high,
        cuts): what the eval runner shows and records."""
        return {alias: limit.snapshot() for alias, limit in self._limits.items()}

    # ---- one alias: cache, budget, retries, breaker ----------------------------------------
    def _estimate(
        self, cfg: AliasConfig, request: CompletionRequest, *, exact: bool = False
    ) -> tuple[float, int]:
        """(USD, tokens) a call may use: prompt tokens plus max_tokens, priced. Without
        max_tokens, the longest reply this alias has given so far stands in for it (zero
        before the first), so that calls in flight together reserve realistic room.

        For real endpoints the first estimate is a cheap over-estimate (UTF-8 bytes / 2);
        only when that would be refused is the prompt counted exactly with litellm's
        tokenizer (which costs ~0.2 ms a call)."""
        if exact:
            prompt = count_prompt_tokens(request.model, request.openai_messages(), request.tools)
        elif self._real:
            size = sum(len((m.content or "").encode()) for m in request.messages)
            if request.tools:
                size += len(str(request.tools))
            prompt = size // 2 + 4 * len(request.messages) + 8
        else:
            chars = sum(len(m.content or "") for m in request.messages)
            prompt = chars // 4 + 1
        out = int(
            request.params.get("max_tokens")
            or request.params.get("max_completion_tokens")
            or self._longest_reply.get(request.alias, 0)
        )
        inp_rate, out_rate = rates_for(cfg)
        return prompt * inp_rate + out * out_rate, prompt + out

    async def _reserve(
        self, budget: SpendLimit, cfg: AliasConfig, request: CompletionRequest
    ) -> Reservation:
        """Hold the call's estimate; waits while only calls in flight stand in the way."""
        est = self._estimate(cfg, request)
        if self._real and not budget.fits(*est):
            # the cheap estimate did not fit: decide on the exact prompt size
            est = self._estimate(cfg, request, exact=True)
        return await budget.areserve(*est, what=f"call to {request.alias!r}")

    async def _call_alias(
        self,
        alias: str,
        msgs: list[Message],
        tools: list[dict[str, Any]] | None,
        params: dict[str, Any],
        call_key: dict[str, Any],
        budget: SpendLimit | None,
        state: dict[str, Any],
    ) -> ModelResponse:
        cfg = self.config.alias(alias)
        source = self.source_for(cfg, alias)
        api_base, api_key = await self._endpoint(cfg)
        if self._real and source is self.source:
            tell_litellm_price(cfg)  # once per model; spares litellm a failed lookup a call
        request = CompletionRequest(
            alias=alias,
            model=cfg.model,
            messages=msgs,
            tools=tools,
            params={**cfg.params, **params} if cfg.params else dict(params),
            api_base=api_base,
            api_key=api_key,
            timeout_s=cfg.timeout_s,
            call_key=call_key,
        )
        if cfg.embedded and "response_format" in request.params:
            fmt = request.params["response_format"]
            request.params["response_format"] = llama_cpp_response_format(fmt)
        state["request"] = request
        key = None
        if self.cache.enabled:
            key = cache_key(
                model=cfg.model,
                api_base=None if cfg.embedded else api_base,
                messages=msgs,
                tools=tools,
                params=request.params,
                call_key=call_key,
            )
            hit = self.cache.get(key)
            if hit is not None:
                hit.alias = alias
                return hit
        reservation: Reservation | None = None
        if budget is not None:
            reservation = await self._reserve(budget, cfg, request)
        endpoint = endpoint_of(cfg, api_base)
        limit = cfg.concurrency
        adaptive = self._adaptive(alias, cfg) if cfg.max_concurrency else None
        attempt = 0
        try:
            while True:
                self.breaker.before_call(endpoint, alias)
                started = 0.0
                try:
                    if adaptive is not None:
                        started = await adaptive.acquire()
                        try:
                            response = await source.complete(request)
                        finally:
                            adaptive.release()
                        adaptive.success(started)
                    elif limit:
                        async with self._semaphore(alias, limit):
                            response = await source.complete(request)
                    else:
                        response = await source.complete(request)
                    break
                except Exception as e:
                    if not _is_model_failure(e):
                        self.breaker.release_probe(endpoint)
                        raise
                    failure = classify(e)
                    if adaptive is not None and (
                        failure.status in OVERLOAD_STATUS or failure.retry_after_s is not None
                    ):
                        adaptive.overload(started)
                    short = redact_text(f"{type(e).__name__}: {e}")[:300]
                    death = self._local.death() if cfg.embedded and self._local else None
                    if death:  # no retry can help: say why the server is gone
                        self.breaker.release_probe(endpoint)
                        raise self._error(e, alias, None, attempt, f"{short}; {death}") from None
                    if failure.endpoint_fault:
                        self.breaker.failure(endpoint, short)
                    else:
                        self.breaker.release_probe(endpoint)
                    if failure.retryable and attempt < cfg.max_retries:
                        delay = self.retry.delay(attempt, failure)
                        if (
                            failure.retry_after_s is not None
                            and failure.retry_after_s > self.retry.max_retry_after_s
                        ):
                            raise self._error(e, alias, failure.status, attempt, short) from None
                        attempt += 1
                        state["retries"] += 1
                        await asyncio.sleep(delay)
                        continue
                    raise self._error(e, alias, failure.status, attempt, short) from None
        except BaseException:
            self.breaker.abort_probe(endpoint)  # a cancelled probe must not wedge it
            if budget is not None:
                budget.release(reservation)
            raise
        self.breaker.success(endpoint)
        if response.usage.output_tokens > self._longest_reply.get(alias, 0):
            self._longest_reply[alias] = response.usage.output_tokens
        _redact_response(response)
        response.alias = alias
        response.cost_usd = cost_of(cfg, response.usage)
        if budget is not None:
            budget.settle(reservation, response.cost_usd, response.usage.total_tokens)
        if key is not None:
            self.cache.put(key, response, alias=alias)
        return response

    @staticmethod
    def _error(
        exc: BaseException, alias: str, status: int | None, retries: int, short: str
    ) -> ModelError:
        if isinstance(exc, ModelError):
            exc.retries = retries
            return exc
        cls = ModelUnavailable if status is None or status >= 500 or status == 408 else ModelError
        where = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
        return cls(
            f"model alias {alias!r} failed{where}: {short}",
            alias=alias,
            status=status,
            retries=retries,
        )

    # ---- the public call ------------------------------------------------------------------
    async def acomplete(
        self,
        messages: list[Message] | str,
        *,
        model: str | None = None,
        tools: list[dict[str, Any]] | None = None,
        sink: EventSink | None = None,
        budget: SpendLimit | None = None,
        call_key: dict[str, Any] | None = None,
        task_class: str | None = None,
        **params: Any,
    ) -> ModelResponse:
        """One completion. Raises BudgetExceeded before sending when the budget would be
        exceeded, ModelUnavailable/ModelError when every alias of the fallback chain
        failed, UnknownAlias for an unconfigured alias."""
        alias = self.resolve(model, task_class)
        msgs = _redact_request(as_messages(messages))
        budget = budget if budget is not None else self.budget
        ck = dict(call_key) if call_key else {}
        chain = [alias, *self.config.models.fallbacks.get(alias, ())]
        state: dict[str, Any] = {"retries": 0, "request": None}
        t0 = time.perf_counter()
        errors: list[str] = []
        self.calls += 1
        response: ModelResponse | None = None
        try:
            for i, name in enumerate(chain):
                try:
                    response = await self._call_alias(name, msgs, tools, params, ck, budget, state)
                    break
                except ModelError as e:
                    errors.append(f"{name}: {e}")
                    if i == len(chain) - 1:
                        if len(chain) > 1:
                            raise type(e)(
                                "every alias of the fallback chain failed:\n  "
                                + "\n  ".join(errors),
                                alias=alias,
                                status=e.status,
                                retries=state["retries"],
                            ) from None
                        raise
        except BaseException as e:
            self.retries += state["retries"]
            if sink is not None:
                req = state["request"]
                sink.emit(
                    ModelCall(
                        alias=alias,
                        model=req.model if req else "",
                        messages=msgs,
                        tools=tools,
                        params=req.params if req else dict(params),
                        error=redact_text(f"{type(e).__name__}: {e}"),
                        latency_s=time.perf_counter() - t0,
                        retries=state["retries"],
                        call_key=ck,
                    )
                )
            raise
        assert response is not None
        self.retries += state["retries"]
        response.retries = state["retries"]
        response.latency_s = time.perf_counter() - t0
        if sink is not None:
            req = state["request"]
            sink.emit(
                ModelCall(
                    alias=response.alias,
                    model=response.model or req.model,
                    messages=msgs,
                    tools=tools,
                    params=req.params,
                    text=response.text,
                    tool_calls=response.tool_calls,
                    usage=response.usage,
                    cost_usd=response.cost_usd,
                    latency_s=response.latency_s,
                    cached=response.cached,
                    retries=response.retries,
                    finish_reason=response.finish_reason,
                    call_key=ck,
                )
            )
        return response

    def complete(self, messages: list[Message] | str, **kwargs: Any) -> ModelResponse:
        """Sync form of `acomplete`; works in scripts and inside a running notebook loop."""
        return run_sync(self.acomplete(messages, **kwargs))

    # ---- lifecycle --------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Calls, retries and cache counters of this gateway."""
        return {"calls": self.calls, "retries": self.retries, "cache": self.cache.stats()}

    def close(self) -> None:
        """Release the embedded server (stopped when its last gateway closes)."""
        if self.closed:
            return
        self.closed = True
        self.cache.close()
        server, self._local = self._local, None
        if server is not None:
            server.users -= 1
            if server.users <= 0:
                server.users = 0
                server.stop()

    async def aclose(self) -> None:
        if self._direct is not None:
            await self._direct.aclose()
        await asyncio.to_thread(self.close)

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
