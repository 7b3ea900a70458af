"""The one HTML table: dict rows and DataFrames, escaping, links, limits."""

from __future__ import annotations

import polars as pl

from forgekit.core.html_table import cell_text, table_html


def test_dict_rows_escape_shade_and_cut():
    rows = [{"text": "5 <b>", "votes": 2}, {"text": "x" * 300, "votes": None, "ok": True}]
    out = table_html(rows, ["text", "votes", "ok"], highlight=0)
    assert "5 &lt;b&gt;" in out and "<b>" not in out
    assert out.count("<tr") == 3 and "background:#e6f4ea" in out
    assert "x" * 159 + "…" in out and "x" * 160 not in out  # cut at 160
    assert ">True<" in out and "<td style='border:1px solid #ccc;padding:2px 6px;" in out
    # columns default to every key, in the order first seen
    assert table_html(rows).index(">ok<") > table_html(rows).index(">votes<")


def test_values_are_written_one_way():
    assert cell_text(None) == "" and cell_text(0.123456) == "0.1235" and cell_text(3) == "3"
    assert cell_text(float("nan")) == "nan" and cell_text({"a": [1]}) == '{&quot;a&quot;: [1]}'
    assert cell_text("a\n  b") == "a b" and cell_text("y" * 400, None) == "y" * 400


def test_a_dataframe_with_links_and_a_row_limit():
    df = pl.DataFrame({"sample": ["s1", "s2", "s3"], "trajectory": ["r/1.jsonl", None, "r/3"],
                       "score": [1.0, 0.0, 0.5]})
    out = table_html(df, links={"trajectory": "{trajectory}"}, max_rows=2, css_class="fk-table")
    assert out.startswith("<table class='fk-table' style=")
    assert '<a href="r/1.jsonl">r/1.jsonl</a>' in out and out.count("<a ") == 1
    assert "s3" not in out and out.endswith("<p>… 1 more rows</p>")
    assert ">0.5<" not in out and ">1<" in out  # floats to 4 significant digits
