"""Gateway basics: config errors, routing, pricing, events, sync-in-a-running-loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from forgekit.core.config import AliasConfig, Price, load_config
from forgekit.core.context import MemorySink
from forgekit.core.errors import ConfigError, UnknownAlias
from forgekit.core.messages import ModelResponse, Usage
from forgekit.models import Gateway, Model, ScriptedSource
from forgekit.models.pricing import cost_of, per_token_rates


def test_malformed_yaml_names_file_line_and_key(tmp_path: Path):
    p = tmp_path / "forgekit.yaml"
    p.write_text("models:\n  aliases:\n    fast: {model: openai/x, timeout_s: soon}\n")
    with pytest.raises(ConfigError) as info:
        Gateway(load_config(p, env={}))
    e = info.value
    assert e.file == str(p) and e.line == 3 and e.key == "models.aliases.fast.timeout_s"
    assert "valid number" in str(e)
    p.write_text("models:\n  aliases: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML") as info:
        load_config(p, env={})
    assert info.value.file == str(p) and info.value.line


def test_unknown_alias_names_file_key_and_what_is_known(tmp_path: Path):
    p = tmp_path / "forgekit.yaml"
    p.write_text("models:\n  aliases:\n    fast: {model: openai/gpt-4o-mini}\n")
    gw = Gateway(load_config(p, env={}), source=ScriptedSource(["x"]))
    with pytest.raises(UnknownAlias) as info:
        gw.complete("hi", model="fsat")
    msg = str(info.value)
    assert str(p) in msg and "models.aliases.fsat" in msg and "fast, local" in msg
    with pytest.raises(UnknownAlias):
        Model("nope", gateway=gw)


def test_routing_by_task_class(project: Path):
    cfg = load_config(env={})
    cfg.models.aliases["coder"] = AliasConfig(model="openai/coder")
    cfg.models.aliases["big"] = AliasConfig(model="openai/big")
    cfg.models.routing = {"code": "coder", "default": "big"}
    gw = Gateway(cfg, source=ScriptedSource(lambda req: req.alias))
    assert gw.resolve(task_class="code") == "coder"
    assert gw.resolve(task_class="poetry") == "big"
    assert gw.resolve("local", task_class="code") == "local"
    assert gw.complete("x", task_class="code").text == "coder"
    assert gw.complete("x").text == "big"
    cfg.models.routing = {}
    assert gw.resolve() == "local"


def test_pricing_override_map_and_unknown():
    usage = Usage(input_tokens=1000, output_tokens=2000)
    override = AliasConfig(model="openai/whatever", price=Price(input_per_1k=1, output_per_1k=2))
    assert cost_of(override, usage) == pytest.approx(5.0)
    known = AliasConfig(model="gpt-4o-mini")
    inp, out = per_token_rates("gpt-4o-mini")
    assert inp > 0 and out > inp
    assert cost_of(known, usage) == pytest.approx(1000 * inp + 2000 * out)
    assert cost_of(AliasConfig(model="openai/no-such-model-xyz"), usage) == 0.0
    assert cost_of(AliasConfig(model="x", embedded=True), usage) == 0.0


def test_events_record_the_call_and_the_error(project: Path):
    cfg = load_config(env={})
    cfg.models.aliases["s"] = AliasConfig(
        model="openai/s", price=Price(input_per_1k=1, output_per_1k=1)
    )
    reply = ModelResponse(text="hi there", usage=Usage(input_tokens=10, output_tokens=2))
    gw = Gateway(cfg, source=ScriptedSource([reply, RuntimeError("scripted bug")]))
    sink = MemorySink()
    r = gw.complete(
        "hello", model="s", sink=sink, call_key={"sample": "a", "attempt": 2}, temperature=0.3
    )
    assert r.cost_usd == pytest.approx(0.012) and r.alias == "s" and r.latency_s > 0
    ev = sink.events[0]
    assert (ev.text, ev.cost_usd, ev.params, ev.call_key) == (
        "hi there",
        r.cost_usd,
        {"temperature": 0.3},
        {"sample": "a", "attempt": 2},
    )
    with pytest.raises(RuntimeError, match="scripted bug"):  # bugs pass through, unretried
        gw.complete("again", model="s", sink=sink)
    assert "scripted bug" in sink.events[1].error and len(gw.source.requests) == 2


def test_sync_call_inside_a_running_event_loop(project: Path):
    cfg = load_config(env={})
    gw = Gateway(cfg, source=ScriptedSource(["from a notebook"], cycle=True))

    async def cell() -> tuple[str, str]:
        # what a Jupyter cell does: plain sync calls while the kernel's loop runs
        a = gw.complete("hi").text
        b = Model("local", gateway=gw).complete("hi").text
        return a, b

    assert asyncio.run(cell()) == ("from a notebook", "from a notebook")


def test_model_handle_params_and_async(project: Path):
    cfg = load_config(env={})
    src = ScriptedSource(["ok"], cycle=True)
    m = Model("local", gateway=Gateway(cfg, source=src), max_tokens=7)
    assert asyncio.run(m.acomplete("q")).text == "ok"
    assert src.requests[0].params["max_tokens"] == 7
    assert m.complete("q", max_tokens=3).text == "ok" and src.requests[1].params["max_tokens"] == 3
    assert repr(m) == "Model('local')"


def test_concurrency_limit_per_alias(project: Path):
    cfg = load_config(env={})
    cfg.models.aliases["s"] = AliasConfig(model="openai/s", concurrency=3)
    live = {"now": 0, "max": 0}

    async def slow(req):
        live["now"] += 1
        live["max"] = max(live["max"], live["now"])
        await asyncio.sleep(0.01)
        live["now"] -= 1
        return ModelResponse(text="x")

    class Slow:
        async def complete(self, req):
            return await slow(req)

    gw = Gateway(cfg, source=Slow())

    async def run():
        await asyncio.gather(*[gw.acomplete("x", model="s") for _ in range(20)])

    asyncio.run(run())
    assert live["max"] == 3
