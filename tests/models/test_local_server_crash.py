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

FAKE = textwrap.dedent('''
    import os, signal, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"data": []}')

        def do_POST(self):
            os.kill(os.getpid(), signal.SIGILL)

    HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
''')


class DiesOnGenerate(LocalServer):
    def command(self, port: int) -> list[str]:
        return [sys.executable, "-c", FAKE, str(port)]


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
