"""The fallback chain over real HTTP: a dead primary hands over to the next alias."""

from __future__ import annotations

import pytest

from forgekit.core.config import AliasConfig
from forgekit.core.context import MemorySink
from forgekit.core.errors import ModelUnavailable
from forgekit.models import Gateway
from forgekit.models.stub_server import Fault


def test_fallback_answers_when_primary_fails_for_good(stub, second_stub, config_for, fast_retry):
    cfg = config_for(max_retries=1)
    cfg.models.aliases["backup"] = AliasConfig(
        model="openai/stub", api_base=second_stub.url, api_key_env="FORGEKIT_TEST_KEY"
    )
    cfg.models.fallbacks["stub"] = ["backup"]
    gw = Gateway(cfg, retry=fast_retry, cache=False)
    stub.script([Fault.status(500)] * 2)
    sink = MemorySink()
    r = gw.complete("hi", sink=sink)
    assert r.text == "from the fallback" and r.alias == "backup"
    assert r.retries == 1 and stub.count == 2 and second_stub.count == 1
    (event,) = sink.events
    assert event.alias == "backup" and event.retries == 1 and event.error is None


def test_whole_chain_failing_names_every_alias(stub, second_stub, config_for, fast_retry):
    cfg = config_for(max_retries=0)
    cfg.models.aliases["backup"] = AliasConfig(
        model="openai/stub", api_base=second_stub.url, max_retries=0
    )
    cfg.models.fallbacks["stub"] = ["backup"]
    gw = Gateway(cfg, retry=fast_retry, cache=False)
    stub.script([Fault.status(503)])
    second_stub.script([Fault.status(500)])
    sink = MemorySink()
    with pytest.raises(ModelUnavailable) as info:
        gw.complete("hi", sink=sink)
    assert "stub:" in str(info.value) and "backup:" in str(info.value)
    assert sink.events[0].error and "fallback chain" in sink.events[0].error
