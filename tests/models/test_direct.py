"""The lean OpenAI-compatible source, over real HTTP to the stub server: routing, faults
(429 with and without Retry-After, 5xx, resets, hangs, malformed and truncated bodies),
exact tokens and cost, tool calls, response_format, keys and keyless servers."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import BaseModel

from forgekit.core.config import AliasConfig, Price
from forgekit.core.context import MemorySink
from forgekit.core.errors import ConfigError, ModelUnavailable
from forgekit.core.events import ModelCall
from forgekit.models import Budget, Gateway, LiteLLMSource
from forgekit.models.direct import DirectSource, parse_completion, uses_direct, wire_model
from forgekit.models.stub_server import Fault
from tests.models.conftest import FAKE_KEY


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_which_aliases_take_the_lean_road(no_proxy_env):
    assert uses_direct(AliasConfig(model="openai/m", api_base="http://h/v1"))
    assert uses_direct(AliasConfig(model="hosted_vllm/m", api_base="http://h/v1"))
    assert uses_direct(AliasConfig(model="openai/smollm2", embedded=True))
    assert not uses_direct(AliasConfig(model="openai/gpt-4o-mini"))  # the cloud: litellm
    assert not uses_direct(AliasConfig(model="anthropic/claude", api_base="http://h"))
    assert not uses_direct(AliasConfig(model="ollama/llama3", api_base="http://h"))
    assert not uses_direct(
        AliasConfig(model="openai/m", api_base="http://h/v1", transport="litellm")
    )
    assert uses_direct(AliasConfig(model="anthropic/x", api_base="http://h", transport="direct"))
    assert wire_model("openai/stub") == "stub" and wire_model("gpt-4o") == "gpt-4o"
    assert wire_model("hosted_vllm/org/model-7b") == "org/model-7b"


def test_an_alias_behind_a_proxy_stays_on_litellm(no_proxy_env):
    """The lean client does not speak to proxies: where the environment routes a server
    through one, `auto` keeps litellm (which honours it); loopback and NO_PROXY hosts and
    an explicit `transport: direct` keep the lean road."""
    remote = AliasConfig(model="openai/m", api_base="https://gpu-box:8000/v1")
    no_proxy_env.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    assert not uses_direct(remote)
    assert uses_direct(AliasConfig(model="openai/m", api_base="http://gpu-box:8000/v1"))
    assert uses_direct(AliasConfig(model="openai/m", api_base="https://127.0.0.1:8000/v1"))
    assert uses_direct(AliasConfig(model="openai/m", api_base="https://localhost/v1"))
    assert uses_direct(remote.model_copy(update={"transport": "direct"}))
    no_proxy_env.setenv("NO_PROXY", "gpu-box,.internal")
    assert uses_direct(remote)
    no_proxy_env.delenv("NO_PROXY")
    no_proxy_env.setenv("ALL_PROXY", "socks5://proxy.corp:1080")
    assert not uses_direct(AliasConfig(model="openai/m", api_base="http://gpu-box:8000/v1"))


def test_the_gateway_routes_per_alias(tmp_path, config_for):
    cfg = config_for()
    cfg.models.aliases["cloud"] = AliasConfig(model="openai/gpt-4o-mini")
    cfg.models.aliases["nobase"] = AliasConfig(model="anthropic/x", transport="direct")
    gw = Gateway(cfg, cache=False)
    assert isinstance(gw.source_for(cfg.alias("stub")), DirectSource)
    assert isinstance(gw.source_for(cfg.alias("cloud")), LiteLLMSource)
    with pytest.raises(ConfigError, match="no api_base") as info:
        gw.source_for(cfg.alias("nobase"), "nobase")
    assert info.value.key == "models.aliases.nobase.transport"
    # a source given to the gateway answers every alias
    explicit = Gateway(cfg, source=LiteLLMSource(), cache=False)
    assert isinstance(explicit.source_for(cfg.alias("stub")), LiteLLMSource)


def test_every_fault_is_survived_with_exact_tokens_and_cost(stub, config_for, fast_retry):
    cfg = config_for(
        max_retries=8, timeout_s=0.5, price=Price(input_per_1k=2.0, output_per_1k=4.0)
    )
    cfg.circuit.failure_threshold = 20
    gw = Gateway(cfg, retry=fast_retry, cache=False)
    stub.script(
        [
            Fault.status(429, retry_after=0.3),
            Fault.status(429),
            Fault.status(500),
            Fault.status(503),
            Fault.reset(),
            Fault.hang(),
            Fault.malformed(),
            Fault.truncated(),
            "four words of reply",
        ]
    )
    sink = MemorySink()
    budget = Budget(max_usd=1.0)
    t0 = time.perf_counter()
    r = gw.complete("one two three", sink=sink, budget=budget)
    elapsed = time.perf_counter() - t0
    assert r.text == "four words of reply" and r.retries == 8 and stub.count == 9
    assert elapsed >= 0.3 + 0.5  # the Retry-After header and the hang's timeout
    # the stub counts words: 3 prompt, 4 reply; priced by the alias
    assert (r.usage.input_tokens, r.usage.output_tokens) == (3, 4)
    assert r.cost_usd == pytest.approx(3 * 0.002 + 4 * 0.004)
    assert budget.spent_usd == pytest.approx(r.cost_usd)
    calls = [e for e in sink.events if isinstance(e, ModelCall)]
    assert len(calls) == 1 and calls[0].retries == 8 and calls[0].error is None
    assert calls[0].usage == r.usage and calls[0].cost_usd == r.cost_usd
    assert calls[0].model == "stub"  # what the server says it ran
    assert stub.requests[-1]["model"] == "stub"
    assert stub.headers[-1]["Authorization"] == f"Bearer {FAKE_KEY}"


def test_faults_past_max_retries_give_a_typed_error_and_a_record(stub, config_for, fast_retry):
    gw = Gateway(config_for(max_retries=2), retry=fast_retry, cache=False)
    stub.script([Fault.truncated(), Fault.reset(), Fault.status(502)])
    sink = MemorySink()
    with pytest.raises(ModelUnavailable) as info:
        gw.complete("hi", sink=sink)
    assert info.value.retries == 2 and info.value.status == 502 and stub.count == 3
    assert "'stub'" in str(info.value)
    [call] = sink.events
    assert call.error and call.retries == 2


def test_a_400_is_not_retried_and_names_the_servers_message(stub, stub_gateway):
    stub.script([Fault.status(400, body='{"error": {"message": "bad field foo"}}')])
    with pytest.raises(Exception, match="bad field foo") as info:
        stub_gateway.complete("hi")
    assert info.value.status == 400 and stub.count == 1


def test_the_circuit_opens_on_a_failing_endpoint(stub, config_for, fast_retry):
    cfg = config_for(max_retries=0)
    cfg.circuit.failure_threshold = 2
    gw = Gateway(cfg, retry=fast_retry, cache=False)
    stub.script([Fault.status(500), Fault.status(500), "never asked"])
    for _ in range(2):
        with pytest.raises(ModelUnavailable):
            gw.complete("hi")
    with pytest.raises(ModelUnavailable, match="circuit"):
        gw.complete("hi")
    assert stub.count == 2


def test_fallback_and_cache_work_on_the_lean_road(stub, second_stub, config_for, fast_retry):
    cfg = config_for(max_retries=0)
    cfg.models.aliases["backup"] = AliasConfig(model="openai/b", api_base=second_stub.url)
    cfg.models.fallbacks = {"stub": ["backup"]}
    gw = Gateway(cfg, retry=fast_retry, cache=True)
    stub.script([Fault.status(503)])
    r = gw.complete("cache me")
    assert r.text == "from the fallback" and r.alias == "backup"
    again = gw.complete("cache me", model="backup")
    assert again.cached and second_stub.count == 1
    gw.close()


def test_tool_calls_and_response_format_travel(stub, stub_gateway):
    tools = [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    stub.script([Fault.tool_call("weather", {"city": "Oslo"})])
    r = stub_gateway.complete("weather?", tools=tools, tool_choice="auto")
    assert [(t.name, t.arguments) for t in r.tool_calls] == [("weather", {"city": "Oslo"})]
    assert stub.requests[-1]["tools"] == tools and stub.requests[-1]["tool_choice"] == "auto"

    class Verdict(BaseModel):
        grade: str

    stub_gateway.complete("grade it", response_format=Verdict)
    rf = stub.requests[-1]["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["name"] == "Verdict"
    assert rf["json_schema"]["schema"]["properties"]["grade"]["type"] == "string"


@pytest.mark.parametrize("transport", ["direct", "litellm"])
def test_a_keyless_local_server_just_works(stub, tmp_path, monkeypatch, fast_retry, transport):
    """`openai/<name>` + api_base and no key at all: litellm used to refuse every call
    ("Missing credentials"), retried as a server error until the circuit opened."""
    from tests.models.conftest import stub_config

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cfg = stub_config(tmp_path, stub, api_key_env=None, transport=transport, max_retries=0)
    gw = Gateway(cfg, retry=fast_retry, cache=False)
    assert [gw.complete(f"q{i}").text for i in range(3)] == ["stub: q0", "stub: q1", "stub: q2"]
    if transport == "direct":
        assert "Authorization" not in stub.headers[-1]


def test_malformed_bodies_are_told_apart():
    from forgekit.models.direct import MalformedResponseError

    ok = parse_completion(
        b'{"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}],'
        b' "usage": {"prompt_tokens": 2, "completion_tokens": 1}}',
        "openai/x",
    )
    assert ok.text == "hi" and ok.usage.total_tokens == 3 and ok.model == "openai/x"
    for bad in [b"", b"<html>", b'{"choices": []}', b'{"choices": [{"text": 1}]}', b"[1]"]:
        with pytest.raises(MalformedResponseError):
            parse_completion(bad, "m")


def test_one_pool_per_loop_closed_with_the_loop(stub, stub_gateway):
    async def two() -> int:
        await asyncio.gather(stub_gateway.acomplete("a"), stub_gateway.acomplete("b"))
        return len(stub_gateway._direct._pools)

    assert asyncio.run(two()) == 1
    assert stub_gateway._direct._pools == {}  # asyncio.run closed it on the way out
    assert stub_gateway.complete("c").text == "stub: c"
