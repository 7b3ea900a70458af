"""Fixtures of the gateway tests: a stub OpenAI-compatible server over real HTTP, and a
project config whose aliases point at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from forgekit.core.config import AliasConfig, ProjectConfig
from forgekit.models import Gateway, RetryPolicy
from forgekit.models.stub_server import StubServer

FAKE_KEY = "sk-test-FAKE0123456789abcdefSECRET"


@pytest.fixture(scope="session")
def _stub_session() -> Iterator[StubServer]:
    with StubServer(latency_ms=0) as server:
        yield server


@pytest.fixture
def stub(_stub_session: StubServer) -> StubServer:
    """A running stub server with an empty script and zeroed counters."""
    _stub_session.reset()
    return _stub_session


@pytest.fixture
def second_stub() -> Iterator[StubServer]:
    with StubServer(latency_ms=0, reply="from the fallback") as server:
        yield server


def stub_config(root: Path, stub: StubServer, **alias_kw) -> ProjectConfig:
    """A config with alias `stub` on the stub server (key from FORGEKIT_TEST_KEY)."""
    cfg = ProjectConfig(root=root)
    kw = {
        "model": "openai/stub",
        "api_base": stub.url,
        "api_key_env": "FORGEKIT_TEST_KEY",
        "timeout_s": 5.0,
        "max_retries": 3,
    }
    kw.update(alias_kw)
    cfg.models.aliases["stub"] = AliasConfig(**kw)
    cfg.models.default = "stub"
    cfg.cache.dir = str(root / "cache")
    return cfg


@pytest.fixture
def config_for(tmp_path, stub, monkeypatch):
    """Factory: `config_for(**alias_fields)` -> a config with alias `stub` on the stub."""
    monkeypatch.setenv("FORGEKIT_TEST_KEY", FAKE_KEY)

    def make(**alias_kw) -> ProjectConfig:
        return stub_config(tmp_path, stub, **alias_kw)

    return make


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return RetryPolicy(base_s=0.01, max_s=0.05)


@pytest.fixture
def stub_gateway(tmp_path, stub, fast_retry, monkeypatch) -> Iterator[Gateway]:
    """A gateway whose default alias `stub` reaches the stub server through litellm.
    Cache off unless a test turns it on."""
    monkeypatch.setenv("FORGEKIT_TEST_KEY", FAKE_KEY)
    cfg = stub_config(tmp_path, stub)
    gw = Gateway(cfg, retry=fast_retry, cache=False)
    yield gw
    gw.close()
