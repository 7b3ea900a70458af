"""The response cache over real HTTP: hits, misses, call-key separation, no errors."""

from __future__ import annotations

import pytest

from forgekit.core.config import Price
from forgekit.core.errors import ModelError
from forgekit.core.messages import Message, ModelResponse
from forgekit.models import Gateway, ResponseCache, cache_key
from forgekit.models.stub_server import Fault


def counting_reply(body: dict) -> str:
    return f"answer #{len(body['messages'])}-{body.get('temperature')}"


def test_rerun_spends_nothing_and_returns_identical_answers(stub, config_for, fast_retry):
    cfg = config_for(price=Price(input_per_1k=2.0, output_per_1k=2.0))
    gw = Gateway(cfg, retry=fast_retry, cache=True)
    prompts = ["alpha one", "beta two", "gamma three"]
    first = [gw.complete(p, max_tokens=8) for p in prompts]
    assert stub.count == 3 and all(not r.cached and r.cost_usd > 0 for r in first)
    # a fresh gateway on the same directory: the cache is on disk
    gw2 = Gateway(cfg, retry=fast_retry, cache=True)
    again = [gw2.complete(p, max_tokens=8) for p in prompts]
    assert stub.count == 3
    assert [r.text for r in again] == [r.text for r in first]
    assert [r.usage for r in again] == [r.usage for r in first]
    # a hit keeps the cost of the call that produced it (a resumed table is unchanged)
    assert all(r.cached and r.cost_usd == f.cost_usd for r, f in zip(again, first, strict=True))
    stats = gw2.cache.stats()
    assert (stats["hits"], stats["misses"]) == (3, 0)
    assert stats["saved_usd"] == pytest.approx(sum(r.cost_usd for r in first))
    assert gw.cache.stats()["misses"] == 3


def test_call_key_and_sampling_params_separate_entries(stub, config_for, fast_retry):
    gw = Gateway(config_for(), retry=fast_retry, cache=True)
    for attempt in range(3):  # best-of-3 must really ask three times
        gw.complete("same", temperature=0.8, call_key={"sample": "s1", "attempt": attempt})
    assert stub.count == 3
    gw.complete("same", temperature=0.8, call_key={"sample": "s1", "attempt": 1})
    assert stub.count == 3  # that one was a hit
    gw.complete("same", temperature=0.2, call_key={"sample": "s1", "attempt": 1})
    gw.complete("same", temperature=0.8, call_key={"sample": "s2", "attempt": 1})
    gw.complete(
        "same",
        temperature=0.8,
        call_key={"sample": "s1", "attempt": 1},
        tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
    )
    assert stub.count == 6
    assert gw.cache.stats()["hits"] == 1


def test_errors_are_never_cached(stub, config_for, fast_retry):
    gw = Gateway(config_for(max_retries=0), retry=fast_retry, cache=True)
    stub.script([Fault.status(400)])
    with pytest.raises(ModelError):
        gw.complete("bad then good")
    assert list(gw.cache.entries()) == []
    assert gw.complete("bad then good").cached is False
    assert gw.complete("bad then good").cached is True
    assert stub.count == 2


def test_key_is_stable_and_sensitive():
    base = dict(
        model="m",
        api_base=None,
        messages=[Message.user("hi")],
        tools=None,
        params={"temperature": 0},
        call_key={"sample": "a"},
    )
    assert cache_key(**base) == cache_key(**{**base, "messages": [Message.user("hi")]})
    for change in [
        {"model": "n"},
        {"api_base": "http://x"},
        {"messages": [Message.user("ho")]},
        {"params": {"temperature": 1}},
        {"call_key": {"sample": "b"}},
        {"tools": [{"x": 1}]},
    ]:
        assert cache_key(**base) != cache_key(**{**base, **change})


def test_damaged_entry_is_a_miss_and_is_overwritten(tmp_path):
    cache = ResponseCache(tmp_path)
    key = "ab" + "0" * 30
    cache.put(key, ModelResponse(text="x", cost_usd=0.5), alias="a")
    hit = cache.get(key)
    assert hit.text == "x" and hit.cached and hit.cost_usd == 0.5
    (entry,) = cache.entries()
    assert entry["cost_usd"] == 0.5 and entry["alias"] == "a"
    cache._conn().execute("UPDATE entries SET response = '{not json'")
    assert cache.get(key) is None
    assert cache.stats()["misses"] == 1 and cache.stats()["saved_usd"] == 0.5
    cache.put(key, ModelResponse(text="y"))
    assert cache.get(key).text == "y"
    assert cache.clear() == 1 and cache.get(key) is None
    cache.close()


def test_unusable_cache_dir_disables_the_cache_not_the_call(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = ResponseCache(blocker / "cache")
    assert cache.get("k") is None and not cache.enabled
    cache.put("k", ModelResponse(text="x"))  # no error
