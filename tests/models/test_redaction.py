"""A secret in the environment never reaches a response, cache file, log line or error."""

from __future__ import annotations

import json
import logging

import pytest

from forgekit.core.context import MemorySink
from forgekit.core.errors import ModelError
from forgekit.models import Gateway
from forgekit.models.stub_server import Fault

SECRET = "sk-test-FAKE0123456789abcdefSECRET"


def test_secret_never_leaks(stub, config_for, fast_retry, monkeypatch, caplog, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("FORGEKIT_TEST_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    gw = Gateway(config_for(max_retries=0), retry=fast_retry, cache=True)
    sink = MemorySink()
    # the server echoes the key back in its error body and in a reply
    stub.script(
        [
            Fault.status(401, body='{"error": {"message": "bad key ' + SECRET + '"}}'),
            Fault.status(500, body='{"error": {"message": "Bearer ' + SECRET + '"}}'),
            "your key is " + SECRET,
        ]
    )
    with pytest.raises(ModelError) as info:
        gw.complete("hello", sink=sink)
    assert stub.headers[0]["Authorization"] == f"Bearer {SECRET}"  # the key was really sent
    assert SECRET not in str(info.value) and "[REDACTED]" in str(info.value)
    assert SECRET not in repr(info.value.args)
    with pytest.raises(ModelError) as info2:
        gw.complete("hello again", sink=sink)
    assert SECRET not in str(info2.value)
    r = gw.complete("echo", sink=sink)
    records = [r.model_dump_json(), *(e.model_dump_json() for e in sink.events)]
    records += [json.dumps(e) for e in gw.cache.entries()]
    records += [rec.getMessage() for rec in caplog.records]
    records += [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    assert gw.cache.writes == 1
    assert not [x for x in records if SECRET in x]
    # the response itself is what the model said: it reaches the user redacted in cache
    (entry,) = gw.cache.entries()
    assert entry["response"]["text"] == "your key is [REDACTED]"
    gw.close()  # the database files themselves, checkpointed
    raw = [p.read_bytes() for p in gw.cache.root.rglob("*") if p.is_file()]
    assert raw and not [b for b in raw if SECRET.encode() in b]


def test_key_env_names_are_validated():
    from forgekit.core.config import AliasConfig

    with pytest.raises(ValueError, match="NAME of an environment variable"):
        AliasConfig(model="openai/x", api_key_env="sk-abc-123")
