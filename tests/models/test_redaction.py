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


def test_no_secret_value_is_sent_to_the_provider(stub, config_for, fast_retry, monkeypatch):
    # a key in a variable whose name says nothing, named by the alias's api_key_env
    plain = "plain-named-key-value-271828"
    monkeypatch.setenv("FORGEKIT_LLM_ACCESS", plain)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    gw = Gateway(config_for(api_key_env="FORGEKIT_LLM_ACCESS"), retry=fast_retry, cache=False)
    from forgekit.core.messages import Message, ToolCall

    tool_out = f"exit code 0\nOPENAI_API_KEY={SECRET}\nACCESS={plain}\n"
    msgs = [
        Message.user("list the environment"),
        Message(role="assistant", tool_calls=[ToolCall(id="c1", name="sh",
                arguments={"command": f"echo {plain}"})]),  # fmt: skip
        Message(role="tool", tool_call_id="c1", content=tool_out),
    ]
    gw.complete(msgs)
    gw.close()
    assert stub.headers[-1]["Authorization"] == f"Bearer {plain}"  # the key itself was used
    body = json.dumps(stub.requests[-1])
    assert SECRET not in body and plain not in body
    assert body.count("[REDACTED]") == 3
    assert msgs[2].content == tool_out  # the caller's messages are not changed


def test_verbose_logs_are_redacted(monkeypatch, capsys) -> None:
    from forgekit.core.redact import redact_logging

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    log = logging.getLogger("forgekit.test.verbose")
    handler = logging.StreamHandler()
    log.addHandler(handler)
    old = logging.getLogRecordFactory()
    try:
        redact_logging(log)
        log.warning("request body: %s", {"api_key": SECRET, "messages": ["hi"]})
    finally:
        logging.setLogRecordFactory(old)
        log.removeHandler(handler)
    err = capsys.readouterr().err
    assert "request body" in err and SECRET not in err and "[REDACTED]" in err
