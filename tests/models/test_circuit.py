"""The circuit breaker: unit behaviour with a fake clock, and fail-fast over real HTTP."""

from __future__ import annotations

import time

import pytest

from forgekit.core.errors import ModelError, ModelUnavailable
from forgekit.models import CircuitBreaker, Gateway
from forgekit.models.stub_server import Fault


def test_opens_after_threshold_and_half_opens_after_reset():
    now = [100.0]
    cb = CircuitBreaker(failure_threshold=2, reset_after_s=10, clock=lambda: now[0])
    cb.before_call("e")
    cb.failure("e", "boom")
    assert cb.state("e") == "closed"
    cb.failure("e", "boom")
    assert cb.state("e") == "open"
    with pytest.raises(ModelUnavailable, match=r"endpoint e .*next probe in 10\.0s"):
        cb.before_call("e")
    now[0] += 10
    cb.before_call("e")  # the probe
    with pytest.raises(ModelUnavailable, match="probe is in flight"):
        cb.before_call("e")
    cb.failure("e", "still down")  # failed probe: open again for reset_after_s
    assert cb.state("e") == "open"
    now[0] += 10
    cb.before_call("e")
    cb.success("e")
    assert cb.state("e") == "closed"
    cb.before_call("e")


def test_breaker_fails_fast_then_probes_over_http(stub, config_for, fast_retry):
    cfg = config_for(max_retries=0)
    cfg.circuit.failure_threshold = 2
    cfg.circuit.reset_after_s = 0.3
    gw = Gateway(cfg, retry=fast_retry, cache=False)
    stub.script([Fault.status(500), Fault.status(502)])
    for _ in range(2):
        with pytest.raises(ModelUnavailable):
            gw.complete("hi")
    assert stub.count == 2
    with pytest.raises(ModelUnavailable) as info:
        gw.complete("hi")
    assert stub.count == 2  # failed fast: nothing was sent
    assert stub.url in str(info.value) and "next probe" in str(info.value)
    assert gw.breaker.state(stub.url) == "open"
    time.sleep(0.35)  # the reset period itself is what is tested
    r = gw.complete("hi")  # half-open probe succeeds and closes the circuit
    assert r.text.startswith("stub:") and stub.count == 3
    assert gw.breaker.state(stub.url) == "closed"


def test_429s_do_not_open_the_circuit(stub, config_for, fast_retry):
    cfg = config_for(max_retries=0)
    cfg.circuit.failure_threshold = 1
    gw = Gateway(cfg, retry=fast_retry, cache=False)
    stub.script([Fault.status(429)])
    with pytest.raises(ModelError) as info:
        gw.complete("hi")
    assert info.value.status == 429 and not isinstance(info.value, ModelUnavailable)
    assert gw.breaker.state(stub.url) == "closed"
    assert gw.complete("hi").text.startswith("stub:")


def test_a_cancelled_probe_does_not_wedge_the_circuit():
    now = [0.0]
    cb = CircuitBreaker(failure_threshold=1, reset_after_s=5, clock=lambda: now[0])
    cb.failure("e", "down")
    now[0] = 5.0
    cb.before_call("e")  # becomes the probe, then gets cancelled
    cb.abort_probe("e")
    cb.before_call("e")  # the next caller may probe
    cb.success("e")
    assert cb.state("e") == "closed"
