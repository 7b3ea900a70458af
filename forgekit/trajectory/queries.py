"""Questions asked of many runs: cost and tokens by model, latency percentiles, failure
reasons, steps per run, and batch statistics per model / solver.

Each function takes a `TrajectoryStore` (or anything with `.query(sql) -> polars`, such as
`TrajectoryTables` built from trajectories in memory) and returns a polars DataFrame.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

from forgekit.trajectory.reader import Trajectory
from forgekit.trajectory.sqltables import frame, load_lines, table_sql
from forgekit.trajectory.tables import TABLES


class Queryable(Protocol):
    def query(self, sql: str, params: list[Any] | None = None) -> Any: ...


class TrajectoryTables:
    """The six tables built from trajectories in memory (no files needed)."""

    def __init__(self, trajectories: Iterable[Trajectory]) -> None:
        self.lines: list[tuple[str, str]] = []
        for top in trajectories:
            for t in top.walk():
                name = str(t.path or f"{t.run_id}.jsonl")
                for e in t.events:
                    d = e.model_dump(mode="json")
                    if d["type"] == "model_call":
                        d["message_refs"] = [None] * len(d.pop("messages"))
                    self.lines.append((name, json.dumps(d, ensure_ascii=False)))

    def query(self, sql: str, params: list[Any] | None = None) -> Any:
        import duckdb
        import pyarrow as pa

        con = duckdb.connect()
        try:
            con.register(
                "_lines",
                pa.table(
                    {
                        "filename": [f for f, _ in self.lines],
                        "json": [j for _, j in self.lines],
                    }
                ),
            )
            load_lines(con, "(select filename, json::json as json from _lines)")
            con.register("_raw_trunc", pa.table({"file": pa.array([], pa.string())}))
            for name in TABLES:
                con.execute(f"create view {name} as {table_sql(name)}")
            return frame(con, sql, params)
        finally:
            con.close()


def cost_by_model(src: Queryable) -> Any:
    """Calls, tokens, cost and mean latency per model alias (from `model_calls`)."""
    return src.query("""
        select alias, count(*) as calls, sum(input_tokens)::bigint as input_tokens,
               sum(output_tokens)::bigint as output_tokens, sum(total_tokens)::bigint as total_tokens,
               sum(cost_usd) as cost_usd, avg(latency_s) as mean_latency_s,
               count(error) as errors
        from model_calls group by alias order by cost_usd desc, alias""")


def latency_percentiles(src: Queryable, by: str = "alias") -> Any:
    """p50 / p90 / p95 / p99 / max model-call latency per `by` (alias or model)."""
    if by not in ("alias", "model"):
        raise ValueError("by must be 'alias' or 'model'")
    return src.query(f"""
        select {by}, count(*) as calls,
               quantile_cont(latency_s, 0.5) as p50_s, quantile_cont(latency_s, 0.9) as p90_s,
               quantile_cont(latency_s, 0.95) as p95_s, quantile_cont(latency_s, 0.99) as p99_s,
               max(latency_s) as max_s
        from model_calls group by {by} order by {by}""")


def failure_reasons(src: Queryable) -> Any:
    """Runs that did not complete, grouped by status and the first line of their error."""
    return src.query("""
        select status, coalesce(split_part(error, chr(10), 1), stop_reason, '(none)') as reason,
               count(*) as runs, list(run_id order by run_id)[1:5] as examples
        from runs where status <> 'completed' group by 1, 2 order by runs desc, 1, 2""")


def steps_per_run(src: Queryable) -> Any:
    """Steps, model and tool calls, cost and status of every run."""
    return src.query("""
        select run_id, parent_run_id, solver, model, status, steps, model_calls, tool_calls,
               cost_usd, duration_s from runs order by started_at, run_id""")


_GROUPS = {
    "model": "model",
    "solver": "solver",
    "status": "status",
    "config_hash": "config_hash",
    "sample_id": "sample_id",
}


def _group_keys(by: str | list[str]) -> list[str]:
    cols = [by] if isinstance(by, str) else list(by)
    bad = [c for c in cols if c not in _GROUPS]
    if bad:
        raise ValueError(f"cannot group by {bad}; choose from {sorted(_GROUPS)}")
    return cols


def batch_stats(
    src: Queryable,
    by: str | list[str] = "model",
    *,
    top_level: bool = True,
    scorer: str | None = None,
) -> Any:
    """Per group: runs, completed, success rate, mean/median cost, tokens, steps, duration,
    and the mean primary score (from `scores`, when any were recorded).

    Args:
        by: "model", "solver" (or "status", "config_hash", "sample_id"), or a list of them.
        top_level: count only runs without a parent (children's costs are already in
            their parent's totals).
        scorer: the scorer whose score is `mean_score`. Default: the primary one, the
            first score each run recorded (the eval runner records the primary scorer
            first). The means of every scorer are in `score_means`.
    """
    cols = _group_keys(by)
    keys = ", ".join(f"r.{c}" for c in cols)
    where = "where r.parent_run_id is null" if top_level else ""
    if scorer is None:
        primary = """select run_id, value as score from (
                         select run_id, value,
                                row_number() over (partition by run_id order by seq) as n
                         from scores) where n = 1"""
        params = None
    else:
        primary = "select run_id, avg(value) as score from scores where scorer = ? group by 1"
        params = [scorer]
    return src.query(f"""
        with s as ({primary})
        select {keys}, count(*) as runs,
               count(*) filter (where r.status = 'completed') as completed,
               avg(case when r.status = 'completed' then 1.0 else 0.0 end) as success_rate,
               avg(r.cost_usd) as mean_cost_usd, median(r.cost_usd) as median_cost_usd,
               avg(r.total_tokens) as mean_tokens, median(r.total_tokens) as median_tokens,
               avg(r.steps) as mean_steps, median(r.steps) as median_steps,
               avg(r.duration_s) as mean_duration_s, median(r.duration_s) as median_duration_s,
               avg(r.latency_s) as mean_model_latency_s,
               avg(s.score) as mean_score, count(s.score) as scored
        from runs r left join s on s.run_id = r.run_id {where}
        group by {keys} order by {keys}""", params)


def score_means(src: Queryable, by: str | list[str] = "model", *, top_level: bool = True) -> Any:
    """Per group and scorer: the mean score, how many runs it scored, and how many times
    the scorer itself failed (`errors`). A run's repeated scores by one scorer are
    averaged first, so every run weighs the same.

    Args:
        by, top_level: as in `batch_stats`.
    """
    cols = _group_keys(by)
    keys = ", ".join(f"r.{c}" for c in cols)
    where = "where r.parent_run_id is null" if top_level else ""
    return src.query(f"""
        with s as (select run_id, scorer, avg(value) as score,
                          count(error) as errors, min(seq) as first
                   from scores group by run_id, scorer)
        select {keys}, s.scorer, avg(s.score) as mean_score, count(s.score) as scored,
               sum(s.errors)::bigint as errors
        from runs r join s on s.run_id = r.run_id {where}
        group by {keys}, s.scorer order by {keys}, min(s.first), s.scorer""")
