"""A server that answers its health check and dies on the first generation (a llama.cpp
built for CPU features the machine does not allow) is named at start, not left to fail
every call as a bare connection error."""

from __future__ import annotations

import signal
import sys
import textwrap

import pytest

from forgekit.core.config import LocalServerConfig
from forgekit.core.errors import ModelUnavailable
from forgekit.models.local_server import LocalServer, exit_reason

# a server that answers its health check, and dies with SIGILL on a POST to a path that
# ends with argv[2] ("" = every POST); other POSTs (the start probe) get a completion
FAKE = textwrap.dedent('''
    import json, os, signal, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"data": []}')

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path.endswith(sys.argv[2]):
                os.kill(os.getpid(), signal.SIGILL)
            assert len(body["prompt"]) > 200  # the probe's prompt is batched, not one token
            out = json.dumps({"choices": [{"text": "1", "index": 0}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
''')


class DiesOnGenerate(LocalServer):
    def command(self, port: int) -> list[str]:
        return [sys.executable, "-c", FAKE, str(port), ""]


def test_sigill_on_first_generation_says_what_to_do(tmp_path):
    server = DiesOnGenerate(LocalServerConfig(startup_timeout_s=20), tmp_path)
    with pytest.raises(ModelUnavailable) as e:
        server.ensure_started()
    text = str(e.value)
    assert "illegal instruction" in text and "GGML_NATIVE=OFF" in text
    assert not server.running


def test_exit_reasons_in_words():
    assert "illegal instruction" in exit_reason(-signal.SIGILL)
    assert exit_reason(-signal.SIGKILL) == "was killed by SIGKILL"
    assert exit_reason(3) == "exited with code 3"


class DiesOnChat(LocalServer):
    def command(self, port: int) -> list[str]:
        return [sys.executable, "-c", FAKE, str(port), "/chat/completions"]


def test_a_server_that_dies_mid_run_is_named_in_the_calls_error(tmp_path):
    from forgekit.core.config import load_config
    from forgekit.models import Gateway

    cfg = load_config(env={"FORGEKIT_HOME": str(tmp_path)})
    cfg.cache.enabled = False
    server = DiesOnChat(LocalServerConfig(startup_timeout_s=20), tmp_path)
    gw = Gateway(cfg)
    gw._local, server.users = server, 1
    try:
        with pytest.raises(ModelUnavailable) as e:
            gw.complete("What is 2+2?", model="local", max_tokens=4)
        text = str(e.value)
        assert "illegal instruction" in text and "GGML_NATIVE=OFF" in text, text
    finally:
        gw.close()
        server.stop()


class DumpsEnvAndExits(LocalServer):
    def command(self, port: int) -> list[str]:
        code = (
            "import os, sys; print('key', os.environ.get('FK_CRASH_API_KEY'), "
            "'plain', os.environ.get('FK_CRASH_PLAIN'), flush=True); sys.exit(3)"
        )
        return [sys.executable, "-c", code]


def test_a_server_that_exits_at_start_is_named_and_gets_no_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("FK_CRASH_API_KEY", "sk-crash-0123456789abcdefghij")
    monkeypatch.setenv("FK_CRASH_PLAIN", "visible")
    server = DumpsEnvAndExits(LocalServerConfig(startup_timeout_s=20), tmp_path)
    with pytest.raises(ModelUnavailable) as e:
        server.ensure_started()
    text = str(e.value)
    assert text.startswith("the local model server exited with code 3 while starting; log ")
    assert "key None plain visible" in text  # the one secret-name rule kept the key out
    assert not server.running and server.death() is None and server.pid is None
