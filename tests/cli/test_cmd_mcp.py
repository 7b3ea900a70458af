"""`forgekit mcp list|check` on a project whose forgekit.yaml names real SDK servers."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from forgekit.cli.main import main
from tests.agents.mcp_fixtures import CALC

pytest.importorskip("mcp", reason="the mcp extra is not installed")


def _project(root, servers) -> None:
    (root / "forgekit.yaml").write_text(yaml.safe_dump({"mcp": {"servers": servers}}))


def test_list_and_check(project, capsys):
    _project(
        project,
        {
            "calc": {"command": sys.executable, "args": [CALC], "deny": ["crash"]},
            "gone": {"command": "/nonexistent/server", "connect_timeout_s": 2},
        },
    )
    assert main(["mcp", "list"]) == 0
    out = capsys.readouterr().out
    assert "calc [stdio] ready" in out and "- add (calc.add) [write]: Add two integers" in out
    assert "(hidden by allow/deny) crash" in out
    assert "gone [stdio] down" in out and "error:" in out
    assert main(["mcp", "check"]) == 1
    assert "down: gone" in capsys.readouterr().out
    _project(project, {"calc": {"command": sys.executable, "args": [CALC]}})
    assert main(["mcp", "check", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["state"] == "ready" and row["ping_s"] > 0


def test_bad_config_names_the_line(project, capsys):
    (project / "forgekit.yaml").write_text("mcp:\n  servers:\n    calc:\n      comand: x\n")
    assert main(["mcp", "list"]) == 2
    err = capsys.readouterr().err
    assert "forgekit.yaml:4" in err and "comand" in err
