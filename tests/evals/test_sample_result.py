"""Typed per-sample results: the results log and table keep their on-disk shape both ways
(older logs load; what is written now, a reader of the old columns reads)."""

from __future__ import annotations

import json
import logging
import re

import polars as pl
import pytest

from forgekit.core import Score
from forgekit.evals import EvalResults, PromptSolver, SampleResult, evaluate
from forgekit.evals.resultlog import ResultLog
from forgekit.evals.sample_result import result_schema
from forgekit.models import Gateway, ScriptedSource

# a line of results.jsonl as forgekit wrote it before SampleResult (Dec 2026, before run
# keys existed; `scores` is JSON text), plus a key a newer writer might add
OLD_LINE = (
    '{"eval_id": "t-0123456789", "suite_hash": "0123456789abcdef", "model": "m1", '
    '"solver": "p", "sample_id": "s1", "sample_index": 1, "epoch": 0, "seed": 42, '
    '"target": "\\"2\\"", "input": "what is 1 + 1?", "status": "completed", "error": null, '
    '"answer": "2", "score": 1.0, "passed": true, "scores": "[{\\"answer\\": \\"2\\", '
    '\\"error\\": null, \\"explanation\\": null, \\"metadata\\": {}, \\"scorer\\": '
    '\\"numeric\\", \\"value\\": 1.0}, {\\"answer\\": null, \\"error\\": \\"no judge\\", '
    '\\"explanation\\": null, \\"metadata\\": {}, \\"scorer\\": \\"judge\\", \\"value\\": '
    'null}]", "score_errors": 1, "input_tokens": 12, "output_tokens": 3, "cost_usd": '
    '0.00018, "latency_s": 0.05, "model_calls": 1, "steps": 0, "run_id": "a1b2c3d4e5f60718", '
    '"trajectory": "/tmp/runs/a1b2c3d4e5f60718.jsonl", "finished_at": 1796180000.5, '
    '"from_the_future": 1}\n'
)

# the columns and types the old reader (`RESULT_COLUMNS`) built the table with
OLD_COLUMNS = {
    "eval_id": pl.Utf8, "suite_hash": pl.Utf8, "model": pl.Utf8, "solver": pl.Utf8,
    "sample_id": pl.Utf8, "sample_index": pl.Int64, "epoch": pl.Int64, "seed": pl.Int64,
    "status": pl.Utf8, "error": pl.Utf8, "input": pl.Utf8, "answer": pl.Utf8,
    "target": pl.Utf8, "score": pl.Float64, "passed": pl.Boolean, "scores": pl.Utf8,
    "score_errors": pl.Int64, "input_tokens": pl.Int64, "output_tokens": pl.Int64,
    "cost_usd": pl.Float64, "latency_s": pl.Float64, "model_calls": pl.Int64,
    "steps": pl.Int64, "run_id": pl.Utf8, "trajectory": pl.Utf8, "finished_at": pl.Float64,
    "solver_hash": pl.Utf8, "sample_hash": pl.Utf8, "run_key": pl.Utf8, "score_key": pl.Utf8,
}


def test_an_old_results_log_loads_typed(tmp_path):
    (tmp_path / "results.jsonl").write_text(OLD_LINE)
    [(key, rec)] = ResultLog(tmp_path).load().items()
    assert key == ("m1", "p", "s1", 0) == rec.key
    assert rec.scores == [
        Score(scorer="numeric", value=1.0, answer="2"),
        Score(scorer="judge", error="no judge"),
    ]
    assert rec.run_key is None and rec.finished and not rec.transient
    assert (rec.totals.total_tokens, rec.totals.model_calls) == (15, 1)
    # merged into Parquet and read back: the same result
    ResultLog(tmp_path).merge([rec])
    (tmp_path / "results.jsonl").unlink()
    assert ResultLog(tmp_path).load()[key] == rec


def test_new_lines_and_tables_have_the_old_columns(tmp_path):
    rec = SampleResult.model_validate_json(OLD_LINE)
    log = ResultLog(tmp_path)
    log.append(rec)
    log.close()
    log.merge([rec])
    # the old reader: json.loads per line, a table with the old schema, scores parsed
    line = json.loads((tmp_path / "results.jsonl").read_text())
    assert set(line) == set(OLD_COLUMNS) and isinstance(line["scores"], str)
    old_table = pl.DataFrame([line], schema=OLD_COLUMNS, strict=False)
    assert json.loads(old_table["scores"][0])[1]["error"] == "no judge"
    assert result_schema() == OLD_COLUMNS and list(result_schema()) == list(OLD_COLUMNS)
    stored = pl.read_parquet(tmp_path / "results.parquet")
    assert dict(stored.schema) == OLD_COLUMNS
    assert stored.drop("scores").row(0) == old_table.drop("scores").row(0)


def test_a_line_that_is_not_a_result_is_named_and_skipped(tmp_path, caplog):
    bad = json.loads(OLD_LINE) | {"sample_id": "s2", "epoch": "second"}
    (tmp_path / "results.jsonl").write_text(OLD_LINE + json.dumps(bad) + "\n")
    with caplog.at_level(logging.WARNING):
        out = ResultLog(tmp_path).load()
    assert list(out) == [("m1", "p", "s1", 0)]
    assert re.search(r"results\.jsonl:2: line is not a result \(field epoch", caplog.text)


def test_an_old_parquet_without_the_newer_columns_loads(tmp_path):
    row = json.loads(OLD_LINE)
    del row["from_the_future"]
    pl.DataFrame([row]).write_parquet(tmp_path / "results.parquet")  # no run keys at all
    [rec] = ResultLog(tmp_path).load().values()
    assert rec.sample_hash is None and rec.scores[0].scorer == "numeric"


def test_an_evaluation_gives_typed_rows_and_keeps_its_table(config):
    def double(req) -> str:
        return str(2 * int(re.findall(r"\d+", req.messages[-1].content)[0]))

    rows = [{"id": f"q{i}", "input": f"what is {i} + {i}?", "target": str(2 * i)}
            for i in range(3)]
    res = evaluate(PromptSolver("{input}"), rows, models=["m1"], name="typed",
                   scorers=["numeric", "exact"],
                   gateway=Gateway(config, source=ScriptedSource(double)), progress=False)
    assert list(res.df.columns) == list(OLD_COLUMNS)
    typed = res.rows()
    assert [r.sample_id for r in typed] == ["q0", "q1", "q2"]
    assert all(isinstance(s, Score) for r in typed for s in r.scores)
    assert [s.scorer for s in typed[0].scores] == ["numeric", "exact"]
    assert all(r.score == 1.0 and r.passed for r in typed)
    assert typed[1].model_calls == 1 and typed[1].totals.total_tokens > 0
    # the log on disk reads back to the same rows as the table
    back = ResultLog(res.out_dir).load()
    assert [back[r.key] for r in typed] == typed
    assert EvalResults.load(res.out_dir).rows() == typed


@pytest.mark.parametrize("status", ["completed", "failed"])
def test_a_result_round_trips_through_a_line(status):
    rec = SampleResult.model_validate_json(OLD_LINE).model_copy(update={"status": status})
    assert SampleResult.model_validate_json(rec.to_json()) == rec
    assert SampleResult.model_validate(rec.row()) == rec


def _tricky_results() -> list[SampleResult]:
    base = SampleResult.model_validate_json(OLD_LINE)
    return [
        base,
        base.model_copy(update={"sample_id": "s2", "status": "failed", "error": "Boom: ünïcode ✓",
                                "answer": None, "score": 0.0, "passed": False, "scores": [],
                                "seed": None, "run_key": "k" * 16, "cost_usd": 1e-9}),
        base.model_copy(update={"sample_id": "s3", "status": "budget-exceeded", "score": None,
                                "passed": None, "answer": 'quote " and \\ and\nnewline',
                                "latency_s": 123456.789012345, "finished_at": None}),
    ]


def test_the_table_from_lines_is_the_table_from_records(tmp_path):
    from forgekit.evals.sample_result import lines_frame, results_frame

    recs = _tricky_results()
    from_lines = lines_frame([r.to_json() for r in recs])
    assert from_lines.equals(results_frame(recs)) and from_lines.schema == results_frame(recs).schema
    assert lines_frame([]).equals(results_frame([]))
    ResultLog(tmp_path).merge(recs)
    assert [ResultLog._read(r, tmp_path, 0, "row") for r in
            pl.read_parquet(tmp_path / "results.parquet").to_dicts()] == recs


def test_a_sample_line_travels_cheaply_and_reads_back():
    import pickle

    from forgekit.evals.sample_result import SampleLine

    for rec in _tricky_results():
        line = pickle.loads(pickle.dumps(SampleLine.of(rec)))
        assert line.result() == rec and line.to_json() == rec.to_json()
        assert (line.key, line.status, line.score) == (rec.key, rec.status, rec.score)
        assert line.totals == rec.totals


def test_lines_appended_in_one_loop_step_are_written_together(tmp_path):
    import asyncio

    recs = _tricky_results()
    log = ResultLog(tmp_path)

    async def run() -> list[int]:
        sizes = []
        for rec in recs:
            log.append(rec, soon=True)
            sizes.append(log.jsonl.stat().st_size)  # not written yet: one write for all
        await asyncio.sleep(0)
        sizes.append(log.jsonl.stat().st_size)
        log.append(recs[0], soon=True)
        assert len(log.load()) == 3  # a reader sees every line appended
        return sizes

    sizes = asyncio.run(run())
    assert sizes[:3] == [0, 0, 0] and sizes[3] == sum(len(r.to_json().encode()) + 1 for r in recs)
    log.append(recs[1], soon=True)  # no loop: written at once
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 5
    log.close()
