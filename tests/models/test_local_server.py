"""The REAL embedded model: SmolLM2-135M served by llama.cpp, reached through litellm.

Each test's server uses its own settings (n_ctx), so it is not the session's shared one
and its process can be checked after shutdown.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from forgekit.core.config import load_config
from forgekit.core.errors import ModelUnavailable
from forgekit.models import Gateway

pytestmark = [pytest.mark.slow, pytest.mark.integration]

WEATHER = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by a dead parent) counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_real_model_completion_tool_call_usage_and_shutdown(project: Path):
    cfg = load_config(env={})
    cfg.models.local_server.n_ctx = 2048  # a server of this test's own
    with Gateway(cfg) as gw:
        r = gw.complete("What is 2+2? Answer with a number.", model="local", max_tokens=16)
        assert r.text.strip() and r.usage.input_tokens > 5 and r.usage.output_tokens > 0
        assert r.cost_usd == 0.0 and r.alias == "local" and not r.cached
        t = gw.complete(
            "What is the weather in Paris?",
            model="local",
            tools=WEATHER,
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            max_tokens=48,
        )
        assert t.tool_calls and t.tool_calls[0].name == "get_weather"
        assert isinstance(t.tool_calls[0].arguments, dict)
        assert "city" in t.tool_calls[0].arguments
        again = gw.complete("What is 2+2? Answer with a number.", model="local", max_tokens=16)
        assert again.cached and again.text == r.text  # the cache is on by default
        server = gw.local_server()
        pid = server.pid
        assert alive(pid)
        logs = list((project / ".forgekit" / "logs").glob("local-server-*.log"))
        assert logs and "Uvicorn running" in logs[0].read_text()
    assert wait_gone(pid, 10) and server.pid is None
    with pytest.raises(ModelUnavailable, match="closed"):
        gw.complete("after close", model="local")


def test_start_failure_raises_model_unavailable_with_the_log(project: Path):
    bad = project / "not-a-model.gguf"
    bad.write_bytes(b"GGUF but not really")
    cfg = load_config(env={})
    cfg.models.local_server.model_path = str(bad)
    with Gateway(cfg) as gw, pytest.raises(ModelUnavailable) as info:
        gw.complete("hi", model="local")
    assert "exited with code" in str(info.value) and str(project) in str(info.value)


CHILD = textwrap.dedent("""
    import os, sys
    from forgekit.core.config import load_config
    from forgekit.models import Gateway
    cfg = load_config(env={})
    cfg.models.local_server.n_ctx = 1024 if sys.argv[1] == "exception" else 1536
    gw = Gateway(cfg)
    print(gw.local_server().ensure_started(), gw.local_server().pid, flush=True)
    if sys.argv[1] == "exception":
        raise KeyboardInterrupt  # like Ctrl-C: atexit must stop the server
    os.kill(os.getpid(), 9)  # SIGKILL: no cleanup at all, the server's watchdog must act
""")


def test_no_orphan_server_when_the_parent_dies(project: Path):
    # both ways of dying, in parallel (each starts its own server)
    procs = {
        how: subprocess.Popen(
            [sys.executable, "-c", CHILD, how],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for how in ("exception", "sigkill")
    }
    for how, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        fields = out.split()
        assert len(fields) == 2 and fields[0].startswith("http://127.0.0.1:"), err[-2000:]
        pid = int(fields[1])
        assert proc.returncode != 0
        assert wait_gone(pid, 15), f"llama.cpp server {pid} outlived its parent ({how})"
