"""Task-set loaders: every format, and every bad row reported with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forgekit.core.errors import DataError
from forgekit.evals import load_samples

BUNDLED = ["arithmetic", "factual_qa", "multiple_choice", "python_functions"]


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_sets_load_and_have_a_readme(name: str) -> None:
    samples = load_samples(f"datasets/{name}/{name}.jsonl")
    assert 20 <= len(samples) <= 40
    assert len({s.id for s in samples}) == len(samples)
    assert all(s.targets for s in samples)
    readme = (Path(__file__).parents[2] / "datasets" / name / "README.md").read_text()
    assert "licen" in readme.lower() and "source" in readme.lower()


def test_jsonl_reports_every_bad_row_with_its_line(tmp_path: Path) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "input": "ok", "target": "1"}),
                "{not json",
                json.dumps({"id": "b", "target": "2"}),
                json.dumps({"id": "a", "input": "dup"}),
                json.dumps({"id": "c", "input": "x", "tagret": "typo"}),
                json.dumps({"id": "d", "input": "fine"}),
            ]
        )
        + "\n"
    )
    with pytest.raises(DataError) as e:
        load_samples(f)
    problems = e.value.problems
    assert len(problems) == 4
    assert problems[0].startswith(f"{f}:2: invalid JSON")
    assert f"{f}:3: input" in problems[1]
    assert f"{f}:4: id: duplicate" in problems[2] and "first at" in problems[2]
    assert f"{f}:5: tagret: unknown field" in problems[3]


def test_csv_with_choices_metadata_and_extra_columns(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text(
        "id,input,target,choices,difficulty\n"
        'q1,"Pick one, please",B,"red|blue",easy\n'
        'q2,,A,"[""x"",""y""]",hard\n'
        'q3,Third,A,"[""x"",""y""]",hard\n'
    )
    with pytest.raises(DataError) as e:
        load_samples(f)
    assert e.value.problems == [f"{f}:3: input: missing or empty"]
    f.write_text(f.read_text().replace("q2,,", "q2,Second,"))
    samples = load_samples(f)
    assert samples[0].choices == ["red", "blue"]
    assert samples[1].choices == ["x", "y"]
    assert samples[0].metadata == {"difficulty": "easy"}


def test_parquet_rows(tmp_path: Path) -> None:
    import polars as pl

    f = tmp_path / "t.parquet"
    pl.DataFrame(
        {
            "id": ["1", "2", None],
            "input": ["a", "b", "c"],
            "target": ["x", "y", "z"],
            "source": ["s", "s", "s"],
        }
    ).write_parquet(f)
    with pytest.raises(DataError) as e:
        load_samples(f)
    assert e.value.problems == [f"{f}: row 3: id: missing"]
    pl.DataFrame(
        {"id": [1, 2], "input": ["a", "b"], "target": ["x", "y"], "source": ["s", "t"]}
    ).write_parquet(f)
    samples = load_samples(f, limit=1)
    assert [s.id for s in samples] == ["1"] and samples[0].metadata == {"source": "s"}


def test_yaml_rows_with_lines(tmp_path: Path) -> None:
    f = tmp_path / "t.yaml"
    f.write_text(
        "samples:\n  - id: a\n    input: hi\n    target: [x, y]\n  - id: b\n    choices: nope\n"
    )
    with pytest.raises(DataError) as e:
        load_samples(f)
    assert any(p.startswith(f"{f}:5: input") for p in e.value.problems)
    f.write_text("- id: a\n  input: hi\n  target: [x, y]\n")
    assert load_samples(f)[0].targets == ["x", "y"]


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown task set format"):
        load_samples(tmp_path / "t.txt")
    with pytest.raises(DataError, match="not found"):
        load_samples(tmp_path / "nope.jsonl")
