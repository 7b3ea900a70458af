"""EvalViewer over a real two-solver evaluation: header and reading, filters, sort, pages,
transcripts side by side, the static fallback and the offline export; 10,000 samples."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from forgekit.notebook import EvalViewer
from forgekit.notebook.sample_rows import Query


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


def test_filters_search_sort_and_windows(two_solver_results) -> None:
    v = EvalViewer(two_solver_results, chunk=3)
    data = v.state()
    assert data["counts"] == {"all": 8, "disagree": 4, "failed": 5, "passed": 3}
    assert data["matched"] == 8 and len(data["rows"]) == 3  # the first window only
    # the default order puts disagreements first
    assert {r["id"] for r in data["rows"]} <= {"s1", "s2", "s4", "s7"}
    v.handle({"action": "query", "show": "disagree"})
    assert v.state()["matched"] == 4 and v.state()["version"] == 1
    # the browser scrolled: it asks for the rows there, for the selection it shows
    v._on_msg(v.widget, {"action": "rows", "offset": 3, "limit": 3, "version": 1}, [])
    assert v.widget.rows["offset"] == 3 and [r["id"] for r in v.widget.rows["rows"]] == ["s7"]
    v._on_msg(v.widget, {"action": "rows", "offset": 0, "limit": 3, "version": 0}, [])
    assert v.widget.rows["offset"] == 3  # asked for an older selection: dropped
    v.handle({"action": "query", "show": "failed", "text": "99"})  # the answer text
    assert [r["id"] for r in v.state()["rows"]] == ["s5"]
    v.set_query(show="all", text="", cell=0, lo=1.0, hi=None)  # plain passed
    assert sorted(r["id"] for r in v.select()[0]) == ["s0", "s3", "s6"]
    v.set_query(cell=None, sort="score", sort_cell=0, desc=True)
    assert v.select()[0][0]["cells"][0]["score"] == 1.0
    v.set_query(sort="id", desc=False, scorer="numeric", show="passed")
    assert [r["id"] for r in v.select()[0]] == ["s0", "s3", "s6"]
    assert [r["id"] for r in v.window(1, 99)] == ["s3", "s6"] and v.window(50, 3) == []


def test_open_shows_both_transcripts_with_score_and_target(two_solver_results) -> None:
    v = EvalViewer(two_solver_results)
    v._on_msg(v.widget, {"action": "open", "key": "s1#0"}, [])
    t = v.widget.transcripts  # its own trait: a filter does not resend it
    assert "transcripts" not in v.widget.data
    assert t["key"] == "s1#0" and [r["cell"] for r in t["runs"]] == ["m1/plain", "m1/exact"]
    plain, exact = t["runs"]
    assert plain["run"]["answer"] == "no idea, sorry" and exact["run"]["target"] == "2"
    assert exact["run"]["scores"] == [{"scorer": "numeric", "value": 1.0,
                                       "explanation": "marked answer '2' = 2 equals target 2"}]
    call = next(i for s in exact["steps"] for i in s["items"] if i["type"] == "model_call")
    assert dict(call["meta"])["tokens"].endswith("out") and "$" in dict(call["meta"])["cost"]
    assert "what is 1 + 1?" in json.dumps(exact["steps"])
    v._on_msg(v.widget, {"action": "open", "key": "nope"}, [])  # logged, no crash
    v._on_msg(v.widget, {"action": "close"}, [])
    assert v.widget.transcripts == {} and v.transcripts is None


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


def test_ten_thousand_samples_go_out_in_windows(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    v = EvalViewer(_synthetic(10_000))
    state = v.state()
    built = time.perf_counter() - t0
    assert state["counts"]["all"] == 10_000 and len(state["rows"]) == 100
    assert len(json.dumps(state)) < 100_000  # one window, not the whole table
    t0 = time.perf_counter()
    v.handle({"action": "query", "show": "disagree", "text": "question 99"})
    assert all(r["id"].startswith("q99") for r in v.state()["rows"])
    assert time.perf_counter() - t0 < 2.0, "a filter must answer at once"
    v.set_query(show="all", text="")
    widget = v.widget  # the browser scrolled to the end: the last window only goes out
    t0 = time.perf_counter()
    v.handle({"action": "rows", "offset": 9_900, "limit": 100, "version": v.state()["version"]})
    assert len(widget.rows["rows"]) == 100 and time.perf_counter() - t0 < 0.5
    assert built < 60.0  # mostly the bootstrap CIs and the permutation test over 10k
    v.handle({"action": "open", "key": "q1#0"})  # no trajectory files: said so
    assert "no trajectory" in v.transcripts["runs"][0]["error"]


def test_static_model_answers_like_the_kernel(two_solver_results, tmp_path: Path) -> None:
    """viewer.js's query and its static model (what the exported file runs), run by node
    on the exported data, select the same rows as the kernel, window by window."""
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    from forgekit.notebook.live import module_source

    v = EvalViewer(two_solver_results, chunk=3)
    data = v.export_data(max_transcripts=2)
    queries = [{}, {"show": "disagree"}, {"show": "failed", "text": "99"},
               {"sort": "score", "sort_cell": 1, "desc": True}, {"sort": "id"},
               {"show": "all", "cell": 0, "lo": 1.0}]
    script = tmp_path / "check.mjs"
    script.write_text(
        "globalThis.document = {};\n" + module_source("viewer").replace("export default", "const _ =")
        + f"\nconst data = {json.dumps(data)};\nconst queries = {json.dumps(queries)};\n"
        + """
const out = [];
for (const q of queries) {
  const m = staticModel(data);
  m.send(Object.assign({ action: "query" }, q));
  const d = m.get("data");
  const got = await new Promise((done) => {
    m.on("change:rows", () => done(m.get("rows")));
    m.send({ action: "rows", offset: 3, limit: 3, version: d.version });
  });
  out.push({ matched: d.matched, first: d.rows.map((r) => r.key), next: got.rows.map((r) => r.key),
             counts: d.counts });
}
const m = staticModel(data);
m.send({ action: "open", key: Object.keys(data.transcripts)[0] });
out.push({ runs: m.get("transcripts").runs.length });
// two windows asked for at once (a jump across a window boundary): both arrive
const offsets = [];
m.on("change:rows", () => offsets.push(m.get("rows").offset));
m.send({ action: "rows", offset: 0, limit: 3, version: 0 });
m.send({ action: "rows", offset: 3, limit: 3, version: 0 });
await Promise.resolve();
out.push({ offsets });
console.log(JSON.stringify(out));
""")
    got = json.loads(subprocess.run([node, str(script)], capture_output=True, text=True,
                                    check=True, timeout=60).stdout)
    for q, js in zip(queries, got, strict=False):
        v.set_query(**{**Query().model_dump(), **q})
        rows, counts = v.select()
        assert js["matched"] == len(rows) and js["counts"] == counts, q
        assert js["first"] == [r["key"] for r in rows[:3]], q
        assert js["next"] == [r["key"] for r in rows[3:6]], q
    assert got[-2] == {"runs": 2} and got[-1] == {"offsets": [0, 3]}


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
