"""`forgekit quality` subcommands (wired through their own parser here)."""

from __future__ import annotations

import argparse

from forgekit.cli import cmd_quality


def _parse(argv):
    parser = argparse.ArgumentParser()
    cmd_quality.register(parser.add_subparsers())
    return parser.parse_args(argv)


def test_list_names_every_strategy(capsys):
    args = _parse(["quality", "list"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    for name in ["best_of_n", "pairwise", "reviewer", "guardrail", "debate"]:
        assert name in out
    assert "n=5" in out


def test_compare_rejects_an_unknown_solver(tmp_path, capsys):
    f = tmp_path / "t.jsonl"
    f.write_text('{"id": "a", "input": "1+1?", "target": "2"}\n')
    args = _parse(["quality", "compare", str(f), "--only", "plain,nonsense"])
    assert args.func(args) == 2
    assert "nonsense" in capsys.readouterr().out
