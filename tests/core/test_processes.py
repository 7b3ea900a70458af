"""The process toolkit with real subprocesses: a tiny HTTP server started, checked and
stopped by process group; deaths named; a child that ignores SIGTERM; bounded runs that
overrun their timeout or their output cap; the environment scrubbed by the one rule."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from forgekit.core.processes import (
    ManagedProcess,
    ManagedServer,
    ProcessDied,
    ProcessNotReady,
    exit_reason,
    free_port,
    group_alive,
    log_tail,
    run_bounded,
    scrub_env,
)
from forgekit.core.redact import REDACTED, is_secret_name

PY = sys.executable
SECRET = "sk-test-0123456789abcdefghijklmnop"


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # raises if it was taken


def test_server_starts_healthy_and_stops_by_process_group(tmp_path: Path):
    port = free_port()
    # a shell that starts the server as its child: stopping must take the whole group
    server = ManagedServer(
        ["/bin/sh", "-c", f"{PY} -m http.server {port} --bind 127.0.0.1; exit 0"],
        health_url=f"http://127.0.0.1:{port}/",
        log_path=tmp_path / "logs" / "srv.log",
    )
    with server:
        server.wait_healthy(20, poll_s=0.05)
        assert server.running and server.death() is None
        with urllib.request.urlopen(server.url, timeout=5) as r:
            assert r.status == 200
        pid = server.pid
        assert pid is not None and group_alive(pid)
    assert not server.running and not group_alive(pid)
    assert (tmp_path / "logs" / "srv.log").exists()


def test_death_while_starting_is_named_with_a_redacted_log(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("FK_PROC_TEST_KEY", SECRET)  # redacted by value too
    code = f"import sys; print('boom {SECRET}', flush=True); sys.exit(3)"
    server = ManagedServer(
        [PY, "-c", code],
        health_url=f"http://127.0.0.1:{free_port()}/",
        log_path=tmp_path / "die.log",
        name="the test server",
    ).start()
    with pytest.raises(ProcessDied) as e:
        server.wait_healthy(20, poll_s=0.05)
    assert e.value.returncode == 3 and e.value.reason == "exited with code 3"
    text = str(e.value)
    assert text.startswith("the test server exited with code 3; log ")
    assert "boom" in text and REDACTED in text and SECRET not in text
    assert "exited with code 3" in (server.death() or "")


def test_sigill_is_named_with_its_hint(tmp_path: Path):
    server = ManagedServer(
        [PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"],
        health_url=f"http://127.0.0.1:{free_port()}/",
        log_path=tmp_path / "ill.log",
        sigill_hint="rebuild it portable",
    ).start()
    with pytest.raises(ProcessDied) as e:
        server.wait_healthy(20, poll_s=0.05)
    assert e.value.returncode == -signal.SIGILL
    assert e.value.reason == "died of an illegal instruction (SIGILL): rebuild it portable"


def test_exit_reasons_in_words():
    assert exit_reason(-signal.SIGILL) == "died of an illegal instruction (SIGILL)"
    assert exit_reason(-signal.SIGKILL) == "was killed by SIGKILL"
    assert exit_reason(-200) == "was killed by signal 200"
    assert exit_reason(0) == "exited with code 0"


def test_not_healthy_in_time_is_stopped(tmp_path: Path):
    server = ManagedServer(
        [PY, "-c", "import time; time.sleep(60)"],
        health_url=f"http://127.0.0.1:{free_port()}/",
        log_path=tmp_path / "slow.log",
    ).start()
    with pytest.raises(ProcessNotReady) as e:
        server.wait_healthy(0.5, poll_s=0.05)
    assert e.value.timeout_s == 0.5 and "did not become healthy within 0.5s" in str(e.value)
    assert not server.running and not group_alive(server.pid or 0)


IGNORES_TERM = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # a grandchild in the same group that ignores SIGTERM too
    subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
    print("ready", flush=True)
    time.sleep(60)
""")


def test_a_child_that_ignores_sigterm_is_killed_with_its_group(tmp_path: Path):
    log = tmp_path / "stubborn.log"
    proc = ManagedProcess([PY, "-c", IGNORES_TERM], log_path=log).start()
    deadline = time.monotonic() + 20
    while "ready" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.wait(0.1) is None  # still running: the wait timed out
    t0 = time.monotonic()
    proc.stop(grace_s=0.5)
    assert time.monotonic() - t0 < 8
    assert proc.returncode == -signal.SIGKILL
    assert not group_alive(proc.pid or 0)  # the grandchild is gone too
    assert proc.exit_reason() == "was killed by SIGKILL"


def test_wait_returns_on_interrupt_and_sigterm_to_the_leader_only(tmp_path: Path):
    proc = ManagedProcess([PY, "-c", "import time; time.sleep(60)"], log_path=None).start()
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    assert proc.wait(30, interrupt=stop, poll_s=0.05) is None
    proc.stop(grace_s=5, term_leader_only=True)
    assert proc.returncode == -signal.SIGTERM
    assert proc.wait() == -signal.SIGTERM


def test_log_tail_is_redacted_and_bounded(tmp_path: Path):
    log = tmp_path / "a.log"
    log.write_text("\n".join(f"line {i}" for i in range(50)) + f"\nkey {SECRET}\n")
    tail = log_tail(log, 3)
    assert tail.splitlines() == ["line 48", "line 49", f"key {REDACTED}"]
    assert log_tail(tmp_path / "missing.log", missing="(no log)") == "(no log)"


# -- bounded runs ---------------------------------------------------------------------------
def test_bounded_run_that_overruns_its_timeout_kills_the_group():
    # the shell's background child would keep the output pipe open if it survived
    argv = ["/bin/sh", "-c", "sleep 60 & echo started; sleep 60"]
    t0 = time.monotonic()
    r = asyncio.run(run_bounded(argv, timeout_s=0.5))
    assert r.timed_out and r.returncode == -signal.SIGKILL
    assert "started" in r.output
    assert time.monotonic() - t0 < 5


def test_bounded_run_caps_its_output_head_and_tail():
    code = "print('HEAD' + 'x' * 200000 + 'TAIL')"
    r = asyncio.run(run_bounded([PY, "-c", code], timeout_s=20, max_output=1000))
    assert r.returncode == 0 and not r.timed_out
    assert r.output.startswith("HEAD") and r.output.rstrip().endswith("TAIL")
    assert r.truncated > 190_000 and len(r.output) < 1200
    assert f"[{r.truncated} bytes elided]" in r.output


def test_bounded_run_keeps_stderr_apart_and_feeds_stdin():
    code = "import sys; d = sys.stdin.read(); print(d.upper()); print('err', file=sys.stderr)"
    r = asyncio.run(
        run_bounded([PY, "-c", code], stdin=b"hello", merge_stderr=False, timeout_s=20)
    )
    assert r.returncode == 0
    assert r.output.strip() == "HELLO" and r.stderr.strip() == "err"


def test_environment_is_scrubbed_by_the_one_secret_rule(monkeypatch):
    monkeypatch.setenv("FK_PROC_API_KEY", SECRET)
    monkeypatch.setenv("FK_PROC_PASSWD", "hunter2hunter2")  # a name the old rules missed
    monkeypatch.setenv("FK_PROC_PLAIN", "visible")
    env = scrub_env(EXTRA="1")
    assert "FK_PROC_API_KEY" not in env and "FK_PROC_PASSWD" not in env
    assert env["FK_PROC_PLAIN"] == "visible" and env["EXTRA"] == "1"
    assert all(not is_secret_name(k) for k in scrub_env())
    # a bounded run and a managed process get the scrubbed environment by default
    r = asyncio.run(run_bounded([PY, "-c", "import os; print(sorted(os.environ))"]))
    assert "FK_PROC_PLAIN" in r.output and "FK_PROC_API_KEY" not in r.output
    assert SECRET not in r.output


def test_managed_process_default_env_is_scrubbed(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("FK_PROC_TOKEN", SECRET)
    monkeypatch.setenv("FK_PROC_PLAIN", "visible")
    log = tmp_path / "env.log"
    proc = ManagedProcess(
        [PY, "-c", "import os; print(os.environ.get('FK_PROC_TOKEN'), os.environ['FK_PROC_PLAIN'])"],
        log_path=log,
    ).start()
    assert proc.wait(20) == 0
    assert log.read_text().split() == ["None", "visible"]
    assert os.environ["FK_PROC_TOKEN"] == SECRET  # this process's own is untouched
