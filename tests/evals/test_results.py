"""Results: comparison with CIs, the plot, the HTML report, DuckDB across evaluations."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from forgekit.evals import evaluate, query_evals
from forgekit.models import Gateway, ScriptedSource


def _answer(request) -> str:
    q = request.messages[-1].content
    n = int(re.findall(r"\d+", q)[0])
    if "Be exact" in (request.messages[0].content or ""):
        return str(2 * n)
    return str(2 * n) if n % 4 == 0 else "no idea"


@pytest.fixture
def results(config, write_suite, tmp_path: Path):
    suite = write_suite(
        samples=[
            {"id": f"s{i:02d}", "input": f"what is {i} + {i}?", "target": str(2 * i)}
            for i in range(24)
        ],
        solvers=[
            {"name": "plain", "template": "{input}"},
            {"name": "exact", "template": "{input}", "system": "Be exact."},
        ],
    )
    return evaluate(
        suite,
        Gateway(config, source=ScriptedSource(_answer)),
        out_dir=tmp_path / "evals" / "one",
        progress=False,
    )


def test_summary_and_paired_comparison(results) -> None:
    s = results.summary()
    assert s["solver"].to_list() == ["plain", "exact"]
    assert s["accuracy"].to_list() == [0.25, 1.0]
    plain = s.row(0, named=True)
    assert plain["ci_low"] < 0.25 < plain["ci_high"] and plain["cost_usd"] > 0
    c = results.compare().row(0, named=True)
    assert c["diff"] == pytest.approx(0.75) and c["p_value"] < 0.001 and c["significant"]
    text = results.comparison_table()
    assert "exact" in text and "p=" in text and "95% CI" in text
    # computed once per (confidence, seed), handed out as copies, redone for a new df
    s.drop_in_place("accuracy")
    assert results.summary()["accuracy"].to_list() == [0.25, 1.0]
    assert results.summary(confidence=0.5)["ci_high"][0] < plain["ci_high"]
    results.df = results.df.filter(results.df["solver"] == "plain")
    assert results.summary()["solver"].to_list() == ["plain"]


def test_plot_report_and_html(results, tmp_path: Path) -> None:
    png = results.plot()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = results.report()
    html = report.read_text()
    assert "<img" in html and "data:image/png;base64," in html
    b64 = html.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(b64)[:4] == b"\x89PNG"
    links = re.findall(r'href="([^"]+\.jsonl)"', html)
    assert len(links) == 48 and all((report.parent / link).exists() for link in links)
    assert "Paired comparison" in html and "http" not in html.split("<body>")[1].split("href")[0]
    frag = results._repr_html_()
    assert "<table" in frag and "exact" in frag


def test_duckdb_across_evaluations(results, config, write_suite, tmp_path: Path) -> None:
    suite = write_suite(samples=[{"id": "x", "input": "what is 4 + 4?", "target": "8"}], name="two")
    evaluate(
        suite,
        Gateway(config, source=ScriptedSource(_answer)),
        out_dir=tmp_path / "evals" / "two",
        progress=False,
    )
    df = query_evals(
        "select eval_id, solver, avg(score) as acc, count(*) as n from results "
        "group by all order by n desc",
        root=tmp_path / "evals",
    )
    assert df.height == 3 and df["n"].to_list() == [24, 24, 1]
