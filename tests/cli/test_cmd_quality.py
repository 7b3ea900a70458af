"""`forgekit quality list` and `quality compare` (wired through their own parser here),
compare over a real evaluation of three strategies on a scripted model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from forgekit.cli import cmd_quality
from tests.evals.strategy_suite import run_suite


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


@pytest.fixture
def results(tmp_path: Path):
    return run_suite(tmp_path)


def test_cli_compare_reads_an_eval_dir(results, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report"
    args = _parse(
        ["quality", "compare", str(results.out_dir), "--cost", "calls", "--out", str(out)]
    )
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "| guardrail_3 | 4 | 1.00 [1.00, 1.00] | +0.50" in printed
    assert {p.name for p in out.iterdir()} == {"quality.md", "quality.json", "quality.png"}
    doc = json.loads((out / "quality.json").read_text())
    assert [r["solver"] for r in doc["rows"]] == ["plain", "best_of_3", "guardrail_3"]
    assert len(doc["samples"]) == 12 and doc["meta"]["eval_id"] == results.eval_id


def test_cli_compare_errors_clearly(tmp_path: Path, capsys) -> None:
    args = _parse(["quality", "compare", str(tmp_path)])
    assert args.func(args) == 2
    assert "no results.parquet" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntaskset: t.jsonl\nsolvers: []\nscorers: [numeric]\n")
    args = _parse(["quality", "compare", str(bad)])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "solvers" in err
