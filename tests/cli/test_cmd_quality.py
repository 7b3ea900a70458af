"""`forgekit quality list` (wired through its own parser here); `quality compare` is
tested with the eval runner in test_frontier.py."""

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
