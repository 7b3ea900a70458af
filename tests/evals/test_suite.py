"""Suite YAML: validation errors name file, line and key; bundled suites load."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.core.errors import ConfigError
from forgekit.evals import load_suite

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("path", sorted((ROOT / "evals").glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_suites_load_and_build(path: Path, tmp_path: Path) -> None:
    from forgekit.evals import Runner

    suite = load_suite(path)
    runner = Runner(suite, gateway=None, out_dir=tmp_path)  # builds samples, solvers, scorers
    assert runner.samples and len(runner.solvers) == len(suite.solvers)
    assert [s.name for s in runner.solvers] == [s.name for s in suite.solvers]


def test_main_suite_is_small_enough_for_two_cores() -> None:
    suite = load_suite(ROOT / "evals" / "main.yaml")
    assert suite.models == ["local"] and len(suite.solvers) == 2
    assert 20 <= (suite.taskset.limit or 0) <= 40
    assert all(s.params.get("max_tokens", 999) <= 64 for s in suite.solvers)


def test_typo_is_reported_with_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        "name: x\ntaskset: t.jsonl\nsolvers:\n  - name: a\n    templat: '{input}'\n"
        "scorers: [exact]\n"
    )
    with pytest.raises(ConfigError) as e:
        load_suite(f)
    assert e.value.file == str(f) and e.value.line == 5 and "solvers.0.templat" in str(e.value)


def test_bad_values_and_unknown_scorer(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("name: x\ntaskset: t.jsonl\nsolvers: [{name: a}]\nepochs: 0\nscorers: [exact]\n")
    with pytest.raises(ConfigError) as e:
        load_suite(f)
    assert e.value.line == 4 and "epochs" in str(e.value)
    f.write_text(
        "name: x\ntaskset: t.jsonl\nsolvers: [{name: a}]\nscorers:\n  - exact\n  - type: nummeric\n"
    )
    with pytest.raises(ConfigError) as e:
        load_suite(f)
    assert e.value.line == 6 and "unknown scorer 'nummeric'" in str(e.value)


def test_duplicate_solver_names_and_options_on_prompt(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("name: x\ntaskset: t.jsonl\nsolvers: [{name: a}, {name: a}]\nscorers: [exact]\n")
    with pytest.raises(ConfigError, match="unique"):
        load_suite(f)
    f.write_text(
        "name: x\ntaskset: t.jsonl\nsolvers: [{name: a, options: {n: 3}}]\nscorers: [exact]\n"
    )
    with pytest.raises(ConfigError, match="not options"):
        load_suite(f)


def test_hash_changes_with_config(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("name: x\ntaskset: t.jsonl\nsolvers: [{name: a}]\nscorers: [exact]\n")
    h1 = load_suite(f).config_hash()
    f.write_text("name: x\ntaskset: t.jsonl\nsolvers: [{name: a}]\nscorers: [exact]\nseed: 1\n")
    assert load_suite(f).config_hash() != h1
