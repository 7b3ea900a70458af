import json
import subprocess
import sys

from forgekit.cli.main import main


def test_help_lists_subcommands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "version" in out and "prompts" in out


def test_version(capsys):
    import forgekit

    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == f"forgekit {forgekit.__version__}"


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "forgekit.cli.main", "--help"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "forgekit" in out.stdout


def test_prompts_reports_every_bad_row_with_its_line(tmp_path, capsys):
    f = tmp_path / "p.jsonl"
    f.write_text("\n".join([
        json.dumps({"id": "a", "input": "fine"}),
        "{not json",
        json.dumps({"id": "c"}),
    ]))
    assert main(["prompts", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"{f}:2" in err and f"{f}:3" in err and "2 bad row(s)" in err


def test_config_flag_holds_for_its_command_only(tmp_path, monkeypatch):
    import os

    from forgekit.cli.main import main

    monkeypatch.delenv("FORGEKIT_CONFIG", raising=False)
    cfg = tmp_path / "forgekit.yaml"
    cfg.write_text("models: {default: local}\n")
    assert main(["--config", str(cfg), "version"]) == 0
    assert "FORGEKIT_CONFIG" not in os.environ
