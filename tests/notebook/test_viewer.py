"""EvalViewer over a real two-solver evaluation: header and reading, filters, sort, pages,
transcripts side by side, the static fallback and the offline export; 10,000 samples."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from forgekit.notebook import EvalViewer


def test_header_has_accuracy_ci_and_a_plain_reading(two_solver_results) -> None:
    data = EvalViewer(two_solver_results).state()
    cells = {c["label"]: c for c in data["cells"]}
    assert cells["m1/plain"]["accuracy"] == pytest.approx(3 / 8)
    assert cells["m1/exact"]["accuracy"] == pytest.approx(7 / 8)
    assert cells["m1/exact"]["ci_low"] < 7 / 8 <= cells["m1/exact"]["ci_high"]
    (comp,) = data["comparisons"]
    assert comp["name"] == "m1/exact" and comp["baseline"] == "m1/plain"
    assert comp["diff"] == pytest.approx(0.5) and (comp["won"], comp["lost"]) == (4, 0)
    assert comp["n"] == 8 and 0 < comp["p_value"] < 1
    assert "m1/exact scores +0.500 vs m1/plain" in comp["reading"]


def test_rows_put_input_target_and_each_solver_side_by_side(two_solver_results) -> None:
    v = EvalViewer(two_solver_results, query={"sort": "index"})
    rows = v.state()["rows"]
    assert [r["id"] for r in rows] == [f"s{i}" for i in range(8)]
    s1 = rows[1]
    assert s1["input"] == "what is 1 + 1?" and s1["target"] == "2"
    plain, exact = s1["cells"]
    assert plain["answer"] == "no idea, sorry" and plain["score"] == 0.0
    assert exact["answer"] == "The answer is 2" and exact["score"] == 1.0
    assert exact["scores"] == {"numeric": 1.0}


def test_filters_search_sort_and_pages(two_solver_results) -> None:
    v = EvalViewer(two_solver_results, page_size=3)
    data = v.state()
    assert data["counts"] == {"all": 8, "disagree": 4, "failed": 5, "passed": 3}
    # the default order puts disagreements first
    assert {r["id"] for r in data["rows"]} <= {"s1", "s2", "s4", "s7"}
    v.handle({"action": "query", "show": "disagree"})
    assert v.state()["matched"] == 4
    v.handle({"action": "query", "page": 1})
    page2 = v.state()
    assert page2["query"]["page"] == 1 and [r["id"] for r in page2["rows"]] == ["s7"]
    v.handle({"action": "query", "show": "failed", "text": "99"})  # the answer text
    assert [r["id"] for r in v.state()["rows"]] == ["s5"]
    v.set_query(show="all", text="", cell=0, lo=1.0, hi=None)  # plain passed
    assert sorted(r["id"] for r in v.select()[0]) == ["s0", "s3", "s6"]
    v.set_query(cell=None, sort="score", sort_cell=0, desc=True)
    assert v.select()[0][0]["cells"][0]["score"] == 1.0
    v.set_query(sort="id", desc=False, scorer="numeric", show="passed")
    assert [r["id"] for r in v.select()[0]] == ["s0", "s3", "s6"]
    v.set_query(page=99)  # clamped to the last page
    assert v.state()["query"]["page"] == 0


def test_open_shows_both_transcripts_with_score_and_target(two_solver_results) -> None:
    v = EvalViewer(two_solver_results)
    v._on_msg(v.widget, {"action": "open", "key": "s1#0"}, [])
    t = v.widget.data["transcripts"]
    assert t["key"] == "s1#0" and [r["cell"] for r in t["runs"]] == ["m1/plain", "m1/exact"]
    plain, exact = t["runs"]
    assert plain["run"]["answer"] == "no idea, sorry" and exact["run"]["target"] == "2"
    assert exact["run"]["scores"] == [{"scorer": "numeric", "value": 1.0}]
    assert "what is 1 + 1?" in json.dumps(exact["steps"])
    v._on_msg(v.widget, {"action": "open", "key": "nope"}, [])  # logged, no crash
    v._on_msg(v.widget, {"action": "close"}, [])
    assert v.widget.data["transcripts"] is None


def test_results_render_as_the_viewer(two_solver_results) -> None:
    bundle = two_solver_results._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "fk-static-viewer" in bundle["text/html"]
    assert bundle["text/plain"].startswith("EvalResults(")


def test_static_fallback_is_script_free_deterministic_and_complete(two_solver_results) -> None:
    html = EvalViewer(two_solver_results).html()
    assert html == EvalViewer(two_solver_results).html()
    assert "<script" not in html and "/tmp" not in html
    for text in ("m1/plain", "m1/exact", "0.875", "what is 1 + 1?", "The answer is 2",
                 "no idea, sorry", "not yet distinguishable from chance", "8 samples",
                 "4 disagreements"):
        assert text in html, text
    # disagreements first: s1 (a disagreement) before s0 (agreement)
    assert html.index(">s1<") < html.index(">s0<")
    assert "text-align:left" in html


def test_export_is_offline_and_embeds_rows_transcripts_and_links(
    two_solver_results, tmp_path: Path
) -> None:
    out = EvalViewer(two_solver_results).export_html(tmp_path / "report" / "viewer.html",
                                                      max_transcripts=3)
    doc = out.read_text()
    assert "http://" not in doc and "https://" not in doc  # nothing fetched from a network
    payload = re.search(r'class="fk-viewer-data">(.*?)</script>', doc, re.S).group(1)
    data = json.loads(payload)
    assert len(data["rows"]) == 8 and len(data["transcripts"]) == 3
    for paths in data["links"].values():
        assert all((out.parent / p).exists() for p in paths)
    assert "function runQuery" in doc and "export default" not in doc


def _synthetic(n: int):
    import polars as pl

    from forgekit.evals.results import EvalResults, result_schema

    rows = []
    for solver in ("a", "b"):
        for i in range(n):
            ok = (i % 3 == 0) if solver == "a" else (i % 2 == 0)
            rows.append({
                "eval_id": "big", "model": "m", "solver": solver, "sample_id": f"q{i}",
                "sample_index": i, "epoch": 0, "status": "completed", "input": f"question {i}",
                "answer": f"answer {i} " * 5, "target": json.dumps(str(i)),
                "score": 1.0 if ok else 0.0, "passed": ok,
                "scores": json.dumps([{"scorer": "exact", "value": 1.0 if ok else 0.0}]),
                "score_errors": 0, "input_tokens": 5, "output_tokens": 5, "cost_usd": 0.0,
                "latency_s": 0.1, "trajectory": None,
            })
    return EvalResults(pl.DataFrame(rows, schema=result_schema(), strict=False),
                       meta={"eval_id": "big"})


def test_ten_thousand_samples_go_out_in_pages(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    v = EvalViewer(_synthetic(10_000))
    state = v.state()
    built = time.perf_counter() - t0
    assert state["counts"]["all"] == 10_000 and len(state["rows"]) == 50
    assert len(json.dumps(state)) < 100_000  # one page, not the whole table
    t0 = time.perf_counter()
    v.handle({"action": "query", "show": "disagree", "text": "question 99"})
    assert all(r["id"].startswith("q99") for r in v.state()["rows"])
    assert time.perf_counter() - t0 < 2.0, "a filter must answer at once"
    assert built < 60.0  # mostly the bootstrap CIs and the permutation test over 10k
    v.handle({"action": "open", "key": "q1#0"})  # no trajectory files: said so
    assert "no trajectory" in v.state()["transcripts"]["runs"][0]["error"]


def test_a_running_eval_shows_live_progress_then_its_results(tmp_path: Path) -> None:
    from forgekit.notebook import evaluate_live
    from tests.notebook.conftest import two_solver_eval

    run = two_solver_eval(tmp_path / "live", run=evaluate_live)
    assert run.total == 16 and run.status in ("running", "done")
    results = run.wait(timeout=60)
    deadline = time.monotonic() + 10
    while run.status != "done" and time.monotonic() < deadline:
        time.sleep(0.05)  # the done-callback runs on the worker thread
    assert run.status == "done" and run.done == 16
    assert "samples 16/16" in run.html() and "m1/exact" in run.html()
    assert results.summary()["accuracy"].to_list() == [3 / 8, 7 / 8]
