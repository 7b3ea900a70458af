"""`forgekit agent` subcommands."""

from __future__ import annotations

import json

from forgekit.cli.main import main


def test_check_command(capsys, project):
    assert main(["agent", "check-command", "rm -rf /"]) == 1
    out = capsys.readouterr().out
    assert "risk     : high" in out and "decision : deny" in out
    assert main(["agent", "check-command", "ls -la", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "allow"
    assert main(["agent", "check-command", "git push", "--policy", "headless-permissive"]) == 0


def test_bundles_listing(capsys):
    assert main(["agent", "bundles"]) == 0
    out = capsys.readouterr().out
    assert "files:" in out and "- apply_diff [write]" in out and "- run_command [exec]" in out


def test_agent_run_against_an_openai_compatible_server(capsys, project, monkeypatch):
    """`forgekit agent run` end to end over HTTP (litellm → the stub server): a tool call,
    its observation, the answer, and the trajectory file with the stop reason."""
    from forgekit.models.stub_server import Fault, StubServer
    from forgekit.trajectory import Trajectory

    ws = project / "ws"
    ws.mkdir()
    (ws / "notes.txt").write_text("kiwi\n")
    monkeypatch.setenv("STUB_KEY", "not-a-secret-key")
    with StubServer(latency_ms=0) as stub:
        (project / "forgekit.yaml").write_text(
            "models:\n  aliases:\n    stub:\n      model: openai/stub\n"
            f"      api_base: {stub.url}\n      api_key_env: STUB_KEY\n"
            "cache:\n  enabled: false\n"
        )
        stub.script([Fault.tool_call("read_file", {"path": "notes.txt"}), "The word is kiwi."])
        code = main(
            [
                "agent",
                "run",
                "--model",
                "stub",
                "--bundle",
                "files",
                "--workspace",
                str(ws),
                "what word is in notes.txt?",
            ]
        )
        assert code == 0
        tool_reply = [m for m in stub.requests[1]["messages"] if m["role"] == "tool"]
    out = capsys.readouterr().out
    assert "read_file -> allow: 'kiwi\\n'" in out
    assert "answer      : The word is kiwi." in out
    assert "stop reason : final_answer" in out
    assert tool_reply[0]["content"] == "kiwi\n"
    path = out.split("trajectory  : ")[1].strip()
    traj = Trajectory.load(path)
    assert traj.end.stop_reason.startswith("final_answer") and traj.end.tool_calls == 1
