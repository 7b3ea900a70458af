"""`forgekit agent` subcommands."""

from __future__ import annotations

import json
from pathlib import Path

from forgekit.cli.main import main
from tests.agents.orchestration_helpers import by_node, chain_graph
from tests.scripted import scripted_gateway


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


def test_sandbox_run_prints_the_decision_and_confines_the_command(capsys, project):
    ws = project / "ws"
    assert main(["agent", "sandbox-run", "--workspace", str(ws), "--", "touch /etc/fk"]) == 1
    out = capsys.readouterr().out
    assert "policy   : deny" in out and "not run" in out and "bubblewrap" in out
    code = main(["agent", "sandbox-run", "--workspace", str(ws), "--ignore-policy", "--",
                 "echo hi > a; cat a; touch /etc/fk"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1 and "hi" in out and "Read-only file system" in out
    assert (ws / "a").read_text() == "hi\n"
    assert main(["agent", "sandbox-run", "--workspace", str(ws), "--", "ls", "-a"]) == 0
    assert "exit code 0" in capsys.readouterr().out


def test_sandbox_none_is_a_warning_in_doctor_and_in_the_trajectory(capsys, project):
    (project / "forgekit.yaml").write_text("sandbox: none\n")
    assert main(["doctor", "--json", "--no-start"]) in (0, 1)
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["sandbox"]["status"] == "warn" and "OFF" in checks["sandbox"]["detail"]

    from forgekit.agents import Agent, FinalAnswer, MaxSteps
    from forgekit.core.config import AliasConfig, Price, load_config
    from forgekit.core.messages import ModelResponse, ToolCall
    from forgekit.models import Gateway, ScriptedSource

    cfg = load_config()
    assert cfg.sandbox.mode == "none"
    cfg.models.aliases["m"] = AliasConfig(
        model="openai/scripted", price=Price(input_per_1k=0, output_per_1k=0)
    )
    call = ToolCall(id="c1", name="run_command", arguments={"command": "echo hi > x"})
    gw = Gateway(cfg, source=ScriptedSource([ModelResponse(tool_calls=[call]), "done"]))
    agent = Agent(model="m", bundles=["shell"], termination=FinalAnswer() | MaxSteps(3))
    agent.run("write x", gw, workspace=project / "ws2")
    notes = [e for e in agent.last_sink.events if e.type == "note" and e.kind == "warning"]
    assert notes and "WITHOUT the OS sandbox" in notes[0].data["message"]
    assert (project / "ws2" / "x").read_text() == "hi\n"


def test_cli_lists_roles(capsys, project: Path):
    (project / "roles").mkdir()
    (project / "roles" / "poet.yaml").write_text("name: poet\ndescription: Writes verse.\n")
    assert main(["agent", "roles"]) == 0
    out = capsys.readouterr().out
    assert "planner (shipped):" in out and "poet (" in out and "Writes verse." in out
    assert main(["agent", "roles", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["coder"]["type"] == "role" and data["poet"]["description"] == "Writes verse."


def test_cli_resumes_a_finished_run_with_no_model_call(tmp_path: Path, project, capsys):
    from forgekit.cli.main import main

    runs = tmp_path / "runs"
    gw, _ = scripted_gateway(by_node({"a": "A", "b": "B", "c": "C"}))
    g = chain_graph("abc")
    g.run("go", gw, runs_dir=runs)
    # every turn is restored: the project's default model (unreachable here) is never asked
    assert main(["agent", "resume", g.last_run_id, "--runs-dir", str(runs)]) == 0
    out = capsys.readouterr().out
    assert f"resumed from {g.last_run_id}" in out and "answer      : C" in out
