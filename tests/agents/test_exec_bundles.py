"""The shell and python bundles: timeout, output limits, memory limit, confined cwd."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from forgekit.agents import ToolEnv, ToolError, load_bundle
from tests.scripted import scripted_gateway


def _call(bundle, args, ws: Path, **options):
    t = load_bundle(bundle, **options).tools[0]
    return asyncio.run(t.call(args, ToolEnv(workspace=ws)))


def test_shell_runs_in_workspace_with_exit_code(tmp_path: Path):
    out = _call("shell", {"command": "pwd; echo hi; exit 3"}, tmp_path)
    assert out.splitlines() == ["exit code 3", str(tmp_path.resolve()), "hi"]


def test_shell_timeout_kills_the_process_group(tmp_path: Path):
    t0 = time.monotonic()
    out = _call("shell", {"command": "sleep 30 & sleep 30"}, tmp_path, timeout_s=0.5)
    assert "timed out after 0.5s" in out
    assert time.monotonic() - t0 < 10


def test_shell_output_is_clipped_head_and_tail(tmp_path: Path):
    out = _call("shell", {"command": "seq 1 20000"}, tmp_path, max_output=200)
    assert "characters elided" in out
    assert out.rstrip().endswith("20000") and "\n1\n" in out
    assert len(out) < 400


def test_shell_outside_an_agent_refuses_high_risk(tmp_path: Path):
    with pytest.raises(ToolError, match="refused"):
        _call("shell", {"command": "rm -rf /"}, tmp_path)


def test_python_runs_confined_with_limits(tmp_path: Path):
    out = _call("python", {"code": "import os\nprint(os.getcwd())\nprint(6*7)"}, tmp_path)
    assert out.splitlines() == ["exit code 0", str(tmp_path.resolve()), "42"]
    out = _call(
        "python", {"code": "x = bytearray(400 * 1024 * 1024)\nprint('ok')"}, tmp_path, memory_mb=200
    )
    assert "MemoryError" in out and "exit code 1" in out
    out = _call("python", {"code": "while True: pass"}, tmp_path, timeout_s=0.5)
    assert "timed out" in out


def test_the_policy_grants_the_network_per_tool(tmp_path: Path, monkeypatch):
    """A tool the policy names under `network:` gets a sandbox with the network; the others
    do not (a listener on the host's loopback, reached or not, through the executor)."""
    import socket
    import threading

    from forgekit.agents.execution import ToolExecutor
    from forgekit.agents.feedback import HeadlessFeedback
    from forgekit.agents.policy import resolve_policy
    from forgekit.core import MemorySink, RunContext, ToolCall

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    threading.Thread(target=_serve, args=(srv,), daemon=True).start()
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), 2); print('up')"
    python = load_bundle("python").tools[0]
    out = {}
    for grant in ([], ["run_python"]):
        policy = resolve_policy({"preset": "trusted", "network": grant}, workspace=tmp_path)
        assert policy.decide(python, {"code": code}).network is bool(grant)
        ctx = RunContext(gateway=None, sink=MemorySink())
        ex = ToolExecutor({"run_python": python}, policy, HeadlessFeedback(),
                          ToolEnv(workspace=tmp_path, policy=policy, run=ctx), ctx)  # fmt: skip
        out[bool(grant)] = asyncio.run(ex.run_one(ToolCall(id="c", name="run_python",
                                                           arguments={"code": code})))[0]  # fmt: skip
    srv.close()
    assert out[True].startswith("exit code 0") and "up" in out[True]
    assert out[False].startswith("exit code 1") and "up" not in out[False].split()


def test_a_secret_in_tool_output_never_reaches_the_model(tmp_path: Path, monkeypatch):
    """The issue's leak: a tool printed a key and the tool message took it to the provider.
    Here the key is in a workspace file (the sandbox hides forgekit's environment)."""
    from forgekit.agents import Agent, FinalAnswer, MaxSteps
    from forgekit.core import ModelResponse, ToolCall

    secret = "sk-proj-LEAKED0123456789abcdefXYZ"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    (tmp_path / "key.txt").write_text(secret + "\n")
    call = ToolCall(id="c1", name="run_command", arguments={"command": "cat key.txt; env"})
    gw, src = scripted_gateway([ModelResponse(tool_calls=[call]), "done"])
    agent = Agent(model="m", bundles=["shell"], termination=FinalAnswer() | MaxSteps(3))
    agent.run("show the key", gw, workspace=tmp_path)
    sent = src.requests[1].messages[-1]
    assert sent.role == "tool" and "exit code 0" in sent.content
    assert secret not in sent.content and "[REDACTED]" in sent.content


def _serve(srv) -> None:
    """Accept and close connections until the listener is closed."""
    while True:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        conn.close()
