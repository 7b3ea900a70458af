"""Retries against real HTTP: 429 + Retry-After, 5xx, malformed JSON, hangs."""

from __future__ import annotations

import time

import pytest

from forgekit.core.errors import ModelError, ModelUnavailable
from forgekit.models import Gateway, RetryPolicy
from forgekit.models.retry import Failure, classify
from forgekit.models.stub_server import Fault


def test_429_is_retried_after_the_retry_after_header(stub, stub_gateway):
    stub.script([Fault.status(429, retry_after=0.6), "after the wait"])
    t0 = time.perf_counter()
    r = stub_gateway.complete("hi")
    elapsed = time.perf_counter() - t0
    assert r.text == "after the wait"
    assert r.retries == 1
    assert stub.count == 2
    # backoff base is 0.01 s: only the header can explain a 0.6 s wait
    assert elapsed >= 0.6


def test_500s_are_retried_with_backoff_then_succeed(stub, stub_gateway):
    stub.script([Fault.status(500), Fault.status(503), "ok"])
    r = stub_gateway.complete("hi")
    assert (r.text, r.retries, stub.count) == ("ok", 2, 3)
    assert stub_gateway.stats()["retries"] == 2


def test_retries_stop_at_max_retries_with_a_typed_error(stub, config_for, fast_retry):
    cfg = config_for(max_retries=2)
    gw = Gateway(cfg, retry=fast_retry, cache=False)
    stub.script([Fault.status(500)] * 5)
    with pytest.raises(ModelUnavailable) as info:
        gw.complete("hi")
    assert stub.count == 3  # one try + two retries
    assert info.value.retries == 2 and info.value.status == 500
    assert "'stub'" in str(info.value) and "2 retries" in str(info.value)


def test_400_is_not_retried(stub, stub_gateway):
    stub.script([Fault.status(400)])
    with pytest.raises(ModelError) as info:
        stub_gateway.complete("hi")
    assert not isinstance(info.value, ModelUnavailable)
    assert stub.count == 1 and info.value.status == 400


def test_malformed_json_is_retried(stub, stub_gateway):
    stub.script([Fault.malformed(), "good json"])
    r = stub_gateway.complete("hi")
    assert r.text == "good json" and r.retries == 1 and stub.count == 2


def test_a_hanging_server_times_out_and_is_retried(stub, config_for, fast_retry):
    gw = Gateway(config_for(timeout_s=0.5), retry=fast_retry, cache=False)
    stub.script([Fault.hang(), "answered"])
    t0 = time.perf_counter()
    r = gw.complete("hi")
    assert r.text == "answered" and r.retries == 1
    assert 0.4 < time.perf_counter() - t0 < 5


def test_classify_and_delay():
    class E(Exception):
        status_code = 429

    f = classify(E())
    assert f.retryable and not f.endpoint_fault
    assert not classify(ValueError("bug")).retryable
    assert classify(TimeoutError()).retryable and classify(TimeoutError()).endpoint_fault
    p = RetryPolicy(base_s=1.0, max_s=4.0, jitter=False)
    assert [p.delay(i, Failure(True, 500, None, True)) for i in range(4)] == [1, 2, 4, 4]
    assert p.delay(0, Failure(True, 429, 7.0, False)) == 7.0
    jittered = RetryPolicy(base_s=1.0, max_s=4.0)
    assert all(0 <= jittered.delay(3, Failure(True, 500, None, True)) <= 4 for _ in range(50))
