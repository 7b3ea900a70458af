"""Bad input is named (file, line, field, byte offset) before anything runs, and nothing
finished is lost: task set encodings, ragged CSV rows, damaged Parquet, oversized
samples, duplicate YAML keys, --limit, unknown aliases/solver types, template fields."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from forgekit.core.errors import ConfigError, DataError
from forgekit.evals import evaluate, load_samples, load_suite, tasksets
from forgekit.models import Gateway, ScriptedSource


def test_non_utf8_task_set_names_the_byte_offset(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_bytes(b'{"id": "a", "input": "ok"}\n{"id": "b", "input": "caf\xe9"}\n')
    with pytest.raises(DataError, match=r"t.jsonl:2: not UTF-8: byte 0xe9 at offset 52 "
                                         r"\(line 2, column 26\)"):
        load_samples(p)
    csv = tmp_path / "t.csv"
    csv.write_bytes(b"id,input\na,\xff\n")
    with pytest.raises(DataError, match="t.csv:2: not UTF-8: byte 0xff"):
        load_samples(csv)


def test_a_bom_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + b'{"id": "a", "input": "x"}\n')
    c = tmp_path / "t.csv"
    c.write_bytes(b"\xef\xbb\xbfid,input,target\na,x,1\n")
    assert load_samples(p)[0].id == "a"
    assert load_samples(c)[0].target == "1"


def test_a_ragged_csv_row_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("id,input,target\na,what is 1+1,2\nb,what is 1,2+2,4\nc,short\n")
    with pytest.raises(DataError) as info:
        load_samples(p)
    problems = "\n".join(info.value.problems)
    assert "t.csv:3: 4 cell(s) but the header has 3 column(s)" in problems
    assert "t.csv:4: 2 cell(s) but the header has 3 column(s)" in problems


def test_a_damaged_parquet_file_is_named(tmp_path: Path) -> None:
    p = tmp_path / "t.parquet"
    p.write_bytes(b"PAR1" + b"\x00" * 64)
    with pytest.raises(DataError, match=r"t.parquet: not a readable Parquet file"):
        load_samples(p)


def test_an_oversized_sample_is_named(tmp_path: Path, monkeypatch) -> None:
    assert tasksets.MAX_SAMPLE_BYTES == 1_000_000  # the default: 1 MB
    monkeypatch.setattr(tasksets, "MAX_SAMPLE_BYTES", 1000)
    p = tmp_path / "t.jsonl"
    rows = [{"id": "a", "input": "x"}, {"id": "big", "input": "y" * 5000}]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError) as info:
        load_samples(p)
    assert "t.jsonl:2: sample is 5,026 bytes, over the limit of 1,000" in info.value.problems[0]
    monkeypatch.undo()
    with pytest.raises(DataError, match="over the limit of 100"):  # or per call / suite
        load_samples(p, max_sample_bytes=100)
    assert len(load_samples(p)) == 2  # 5 kB is well under the 1 MB default


def test_duplicate_yaml_keys_are_errors(write_suite, tmp_path: Path) -> None:
    suite = write_suite()
    text = suite.read_text().replace("name: t\n", "name: t\nconcurrency: 2\nconcurrency: 3\n")
    suite.write_text(text)
    with pytest.raises(ConfigError, match=r"suite.yaml:3 \[concurrency\]: duplicate key "
                                          r"'concurrency' \(first at line 2\)"):
        load_suite(suite)


def test_an_empty_suite_names_line_1(tmp_path: Path) -> None:
    p = tmp_path / "empty.yaml"
    p.write_text("")
    with pytest.raises(ConfigError) as info:
        load_suite(p)
    assert "empty.yaml:1" in str(info.value) and "None" not in str(info.value)


def test_unknown_solver_type_names_file_and_line(write_suite) -> None:
    suite = write_suite(solvers=[{"name": "p", "template": "{input}"},
                                 {"name": "x", "type": "best_of_m"}])
    with pytest.raises(ConfigError) as info:
        load_suite(suite)
    line = next(i for i, t in enumerate(suite.read_text().splitlines(), 1) if "best_of_m" in t)
    assert f"suite.yaml:{line} [solvers.1.type]" in str(info.value)
    assert "unknown solver type 'best_of_m'" in str(info.value)


def test_unknown_alias_fails_before_any_call(config, write_suite, tmp_path) -> None:
    suite = write_suite(models=["m1", "nope"])
    src = ScriptedSource(["0"], cycle=True)
    with pytest.raises(ConfigError) as info:
        evaluate(suite, Gateway(config, source=src), out_dir=tmp_path / "o", progress=False)
    assert "model alias 'nope', which is not configured" in str(info.value)
    assert "suite.yaml:" in str(info.value) and "[models.1]" in str(info.value)
    assert src.requests == [] and not (tmp_path / "o" / "results.jsonl").exists()


def test_a_template_field_missing_in_one_sample_is_named(config, write_suite, tmp_path):
    samples = [{"id": f"s{i}", "input": "x", "target": "1", "metadata": {"question": "q"}}
               for i in range(4)]
    samples[2]["metadata"] = {}
    suite = write_suite(samples=samples, solvers=[{"name": "p", "template": "Q: {question}"}])
    src = ScriptedSource(["1"], cycle=True)
    with pytest.raises(ConfigError) as info:
        evaluate(suite, Gateway(config, source=src), out_dir=tmp_path / "o", progress=False)
    text = str(info.value)
    assert "tasks.jsonl:3: sample 's2' has no field 'question'" in text
    assert "[solvers.0.template]" in text and src.requests == []


def test_limit_must_be_at_least_one(config, write_suite, tmp_path) -> None:
    suite = write_suite()
    for bad in (0, -5):
        with pytest.raises(ConfigError, match="limit must be a whole number >= 1"):
            evaluate(suite, Gateway(config, source=ScriptedSource(["1"], cycle=True)),
                     out_dir=tmp_path / "o", limit=bad, progress=False)
    r = subprocess.run([sys.executable, "-m", "forgekit.cli.main", "eval", str(suite),
                        "--limit", "-5"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "--limit: must be >= 1, got -5" in r.stderr


def test_bad_input_on_resume_loses_nothing_finished(config, write_suite, tmp_path) -> None:
    suite = write_suite()
    out = tmp_path / "o"
    first = evaluate(suite, Gateway(config, source=ScriptedSource(["1"], cycle=True)),
                     out_dir=out, progress=False)
    body = yaml.safe_load(suite.read_text())
    body["models"] = ["m1", "typo"]
    suite.write_text(yaml.safe_dump(body, sort_keys=False))
    with pytest.raises(ConfigError):
        evaluate(suite, Gateway(config, source=ScriptedSource([])), out_dir=out,
                 progress=False)
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == first.df.height == 6  # the finished results are all still there
