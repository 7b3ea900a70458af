"""Tool policy: presets, deny → ask → allow, path policy, YAML config with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.agents import PathPolicy, Tool, ToolPolicy, load_bundle, resolve_policy
from forgekit.core.config import load_config
from forgekit.core.errors import ConfigError, PolicyDenied


def add(a: int, b: int) -> int:
    """Add."""
    return a + b


@pytest.fixture
def tools():
    files = {t.name: t for t in load_bundle("files").tools}
    return (
        files,
        load_bundle("shell").tools[0],
        load_bundle("python").tools[0],
        Tool.from_function(add),
    )


def test_presets(tmp_path: Path, tools):
    files, shell, py, calc = tools
    ro = ToolPolicy.preset("plan-readonly", workspace=tmp_path)
    assert ro.decide(files["read_file"], {"path": "a"}).action == "allow"
    assert ro.decide(files["write_file"], {"path": "a", "content": ""}).action == "deny"
    assert ro.decide(shell, {"command": "ls"}).action == "deny"
    safe = ToolPolicy.preset("headless-safe", workspace=tmp_path)
    assert safe.decide(calc, {"a": 1, "b": 2}).action == "allow"
    assert safe.decide(shell, {"command": "ls -la"}).action == "allow"
    assert safe.decide(shell, {"command": "git push"}).action == "ask"
    d = safe.decide(shell, {"command": "rm -rf ~"})
    assert d.action == "deny" and d.risk == "high" and "outside the workspace" in d.reason
    assert safe.decide(py, {"code": "print(1)"}).action == "allow"
    assert safe.decide(py, {"code": "import shutil; shutil.rmtree('/')"}).action == "deny"
    perm = ToolPolicy.preset("headless-permissive", workspace=tmp_path)
    assert perm.decide(shell, {"command": "git push"}).action == "allow"
    assert perm.decide(shell, {"command": "rm -rf /"}).action == "deny"
    trusted = ToolPolicy.preset("trusted", workspace=tmp_path)
    assert trusted.decide(shell, {"command": "rm -rf /"}).action == "allow"
    # paths are confined whatever the preset
    assert trusted.decide(files["read_file"], {"path": "/etc/passwd"}).action == "deny"


def test_deny_beats_ask_beats_allow(tmp_path: Path, tools):
    _, shell, _, _ = tools
    p = resolve_policy(
        {
            "preset": "trusted",
            "rules": [
                {"tool": "run_command", "command": "^git", "action": "ask"},
                {
                    "tool": "run_command",
                    "command": "push",
                    "action": "deny",
                    "reason": "no publishing",
                },
                {"tool": "run_command", "action": "allow"},
            ],
        },
        workspace=tmp_path,
    )
    assert p.decide(shell, {"command": "git push"}).action == "deny"
    assert "no publishing" in p.decide(shell, {"command": "git push"}).reason
    assert p.decide(shell, {"command": "git status"}).action == "ask"
    assert p.decide(shell, {"command": "ls"}).action == "allow"


def test_policy_from_forgekit_yaml_and_errors_name_the_line(project: Path, tools):
    _, shell, _, _ = tools
    (project / "forgekit.yaml").write_text(
        "policy:\n  preset: headless-permissive\n  rules:\n"
        "    - {tool: run_command, command: curl, action: deny}\n"
    )
    cfg = load_config()
    p = ToolPolicy.from_dict(cfg.policy, source=cfg.source, workspace=project)
    assert p.name == "headless-permissive"
    assert p.decide(shell, {"command": "curl http://x"}).action == "deny"
    (project / "forgekit.yaml").write_text(
        "policy:\n  preset: headless-safe\n  rules:\n    - {tool: x, action: maybe}\n"
    )
    cfg = load_config()
    with pytest.raises(ConfigError) as e:
        ToolPolicy.from_dict(cfg.policy, source=cfg.source)
    assert e.value.line == 4 and "policy.rules.0.action" in str(e.value)
    with pytest.raises(ConfigError, match="unknown policy"):
        resolve_policy("yolo")


def test_path_policy_resolves_before_checking(tmp_path: Path):
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    (ws / "out").symlink_to(tmp_path)
    pp = PathPolicy(ws)
    assert pp.check("sub/x.txt")[0]
    assert not pp.check("sub/../../x.txt")[0]
    assert not pp.check("out/x.txt")[0]
    assert not pp.check(".git/HEAD")[0]
    assert not pp.check("a/.env")[0]
    with pytest.raises(PolicyDenied):
        pp.require("/etc/passwd")


def test_standalone_policy_file_and_feedback_providers(tmp_path: Path, tools):
    import asyncio

    from forgekit.agents import ApprovalRequest, CLIFeedback, HeadlessFeedback

    f = tmp_path / "policy.yaml"
    f.write_text("preset: plan-readonly\nask_default: allow\n")
    p = resolve_policy(str(f), workspace=tmp_path)
    assert p.name == "plan-readonly" and p.config.ask_default == "allow"
    req = ApprovalRequest(tool="run_command", arguments={"command": "git push"})
    assert asyncio.run(HeadlessFeedback().approve(req)).approved is False
    assert asyncio.run(HeadlessFeedback("allow").approve(req)).approved is True
    out = []
    cli = CLIFeedback(
        input_fn=lambda prompt: "y",
        output=type(
            "W", (), {"write": lambda self, s: out.append(s), "flush": lambda self: None}
        )(),
    )
    assert asyncio.run(cli.approve(req)).approved is True
    assert "git push" in "".join(out)
    cli = CLIFeedback(
        input_fn=lambda prompt: "",
        output=type("W", (), {"write": lambda self, s: None, "flush": lambda self: None})(),
    )
    assert asyncio.run(cli.approve(req)).approved is False
