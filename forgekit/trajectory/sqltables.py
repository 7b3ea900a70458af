"""The analysis tables as DuckDB SQL over raw run-file lines (fast path for many files).

`load_raw(con, files)` reads run files into a temp table `_raw(file, j)` with DuckDB's
parallel JSON reader (bad and truncated lines become NULL and are dropped); `TABLE_SQL`
derives the six tables from it with exactly the columns and types of `tables.SCHEMAS`.
Compaction and the store's view of un-compacted files both use it, so compacted and
un-compacted runs read the same.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from forgekit.trajectory.tables import SCHEMAS

if TYPE_CHECKING:
    import duckdb
    import polars as pl

_TYPES = {
    "string": "varchar",
    "json": "varchar",
    "int64": "bigint",
    "float64": "double",
    "bool": "boolean",
}


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def truncated_files(files: list[str]) -> list[str]:
    """Files whose last byte is not a newline (a writer stopped mid-line)."""
    out = []
    for f in files:
        try:
            with open(f, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    out.append(f)
        except OSError:
            continue
    return out


def load_raw(con: duckdb.DuckDBPyConnection, files: list[str], table: str = "_raw") -> None:
    """Read run files into temp table `table(file, j, type, seq, ts, run_id)`: one row per
    event line (blob lines and unreadable lines dropped), only from files whose first event
    is `run_start`. Each line is parsed once here; tables extract their fields in one pass."""
    import pyarrow as pa

    trunc = pa.table({"file": pa.array(truncated_files(files), pa.string())})
    con.register(f"{table}_trunc", trunc)
    if not files:
        con.execute(
            f"create or replace temp table {table} (file varchar, j json, type varchar,"
            " seq bigint, ts double, run_id varchar)"
        )
        return
    flist = "[" + ", ".join(_quote(f) for f in files) + "]"
    load_lines(
        con,
        f"read_ndjson_objects({flist}, filename=true, ignore_errors=true, "
        "maximum_object_size=1073741824)",
        table,
    )


def load_lines(con: duckdb.DuckDBPyConnection, source: str, table: str = "_raw") -> None:
    """Like `load_raw`, from any relation with columns `filename` and `json`."""
    con.execute(f"""
        create or replace temp table {table} as
        with lines as (
            select file, j, x[1] as type, try_cast(x[2] as bigint) as seq,
                   try_cast(x[3] as double) as ts, x[4] as run_id
            from (select filename as file, json as j,
                         json_extract_string(json, ['$.type', '$.seq', '$.ts', '$.run_id']) as x
                  from {source}
                  where json is not null)
            where x[1] is not null and x[1] <> 'blob')
        select * from lines
        where file in (select file from lines where type = 'run_start' and seq = 0)""")


class _Extract:
    """Builds one-pass field extraction: `s(path)` (as text) and `x(path)` (as JSON)."""

    def __init__(self, alias: str = "") -> None:
        self.alias = alias
        self.strings: list[str] = []
        self.jsons: list[str] = []

    def s(self, path: str) -> str:
        if path not in self.strings:
            self.strings.append(path)
        return f"{self.alias}_s[{self.strings.index(path) + 1}]"

    def x(self, path: str) -> str:
        if path not in self.jsons:
            self.jsons.append(path)
        return f"{self.alias}_x[{self.jsons.index(path) + 1}]"

    def select(self, extra: str = "") -> str:
        out = [
            f"json_extract_string(j, [{', '.join(_quote(p) for p in self.strings)}]) "
            f"as {self.alias}_s"
        ]
        if self.jsons:
            out.append(
                f"json_extract(j, [{', '.join(_quote(p) for p in self.jsons)}]) as {self.alias}_x"
            )
        return ", ".join(out) + (", " + extra if extra else "")


def _cols(name: str, exprs: dict[str, str]) -> str:
    """A select list in the table's column order, each cast to its schema type."""
    return ",\n".join(f"cast({exprs[c]} as {_TYPES[t]}) as {c}" for c, t in SCHEMAS[name])


def _num0(expr: str, kind: str = "double") -> str:
    return f"coalesce(try_cast({expr} as {kind}), 0)"


def table_sql(name: str, raw: str = "_raw") -> str:
    """SQL selecting one table from the raw lines in `raw`."""
    base = {"run_id": "run_id", "seq": "seq", "ts": "ts"}
    if name == "events":
        return f"select {_cols('events', {**base, 'type': 'type', 'data': 'j'})} from {raw}"
    if name == "runs":
        return _runs_sql(raw)
    e = _Extract()
    kind = {
        "model_calls": "model_call",
        "tool_calls": "tool_call",
        "steps": "step",
        "scores": "score",
    }.get(name)
    if kind is None:
        raise ValueError(f"unknown table {name!r}")
    if name == "model_calls":
        inp = _num0(e.s("$.usage.input_tokens"), "bigint")
        outp = _num0(e.s("$.usage.output_tokens"), "bigint")
        exprs = {
            **base,
            "alias": e.s("$.alias"),
            "model": e.s("$.model"),
            "n_messages": f"coalesce(json_array_length({e.x('$.message_refs')}), 0) + "
            + _num0(e.s("$.messages_from.count"), "bigint"),
            "input_tokens": inp,
            "output_tokens": outp,
            "total_tokens": f"{inp} + {outp}",
            "cost_usd": _num0(e.s("$.cost_usd")),
            "latency_s": _num0(e.s("$.latency_s")),
            "cached": f"coalesce(try_cast({e.s('$.cached')} as boolean), false)",
            "retries": _num0(e.s("$.retries"), "bigint"),
            "finish_reason": e.s("$.finish_reason"),
            "error": e.s("$.error"),
            "text": e.s("$.text"),
            "n_tool_calls": f"coalesce(json_array_length({e.x('$.tool_calls')}), 0)",
            "params": e.x("$.params"),
            "call_key": e.x("$.call_key"),
        }
    elif name == "tool_calls":
        args = e.x("$.arguments")
        exprs = {
            **base,
            "call_id": e.s("$.call_id"),
            "name": e.s("$.name"),
            "arguments": f"case when json_type({args}) = 'VARCHAR' then {e.s('$.arguments')} "
            f"else {args}::varchar end",
            "result": e.s("$.result"),
            "error": e.s("$.error"),
            "decision": e.s("$.decision"),
            "decision_reason": e.s("$.decision_reason"),
            "duration_s": _num0(e.s("$.duration_s")),
        }
    elif name == "steps":
        exprs = {
            **base,
            **{
                k: e.s(f"$.{k}")
                for k in (
                    "step",
                    "thought",
                    "action",
                    "observation",
                    "cost_usd",
                    "latency_s",
                    "tokens",
                )
            },
        }
    else:
        value = e.x("$.value")
        target = e.x("$.target")
        exprs = {
            **base,
            "scorer": e.s("$.scorer"),
            "value": f"case json_type({value}) when 'BOOLEAN' then (case when "
            f"try_cast({e.s('$.value')} as boolean) then 1.0 else 0.0 end) "
            f"when 'VARCHAR' then null else try_cast({e.s('$.value')} as double) end",
            "value_text": e.s("$.value"),
            "answer": e.s("$.answer"),
            "target": f"case when {target} is null or json_type({target}) = 'NULL' then null "
            f"else {target}::varchar end",
            "explanation": e.s("$.explanation"),
            "error": e.s("$.error"),
        }
    return (
        f"select {_cols(name, exprs)} from (select run_id, seq, ts, {e.select()} "
        f"from {raw} where type = '{kind}')"
    )


def _runs_sql(raw: str) -> str:
    st, en, mc = _Extract("st"), _Extract("en"), _Extract("mc")
    inp_end = f"try_cast({en.s('$.usage.input_tokens')} as bigint)"
    out_end = f"try_cast({en.s('$.usage.output_tokens')} as bigint)"
    exprs = {
        "run_id": "s.run_id",
        "parent_run_id": st.s("$.parent_run_id"),
        "solver": st.s("$.solver"),
        "config_hash": st.s("$.config_hash"),
        "model": f"coalesce(c.model, {st.s('$.models[0]')})",
        "models": st.x("$.models"),
        "sample_id": st.s("$.sample_id"),
        "epoch": st.s("$.epoch"),
        "seed": st.s("$.seed"),
        "status": f"case when e.file is null then 'interrupted' else {en.s('$.status')} end",
        "answer": en.s("$.answer"),
        "error": en.s("$.error"),
        "stop_reason": en.s("$.stop_reason"),
        "started_at": "s.ts",
        "ended_at": "coalesce(e.ts, a.last_ts)",
        "duration_s": f"case when e.file is null then a.last_ts - s.ts "
        f"else try_cast({en.s('$.duration_s')} as double) end",
        "cost_usd": f"coalesce(try_cast({en.s('$.cost_usd')} as double), c.cost, 0)",
        "input_tokens": f"coalesce({inp_end}, c.inp, 0)",
        "output_tokens": f"coalesce({out_end}, c.outp, 0)",
        "total_tokens": f"coalesce({inp_end}, c.inp, 0) + coalesce({out_end}, c.outp, 0)",
        "latency_s": "coalesce(c.latency, 0)",
        "model_calls": f"coalesce(try_cast({en.s('$.model_calls')} as bigint), c.n, 0)",
        "tool_calls": f"coalesce(try_cast({en.s('$.tool_calls')} as bigint), a.n_tools)",
        "steps": f"coalesce(try_cast({en.s('$.steps')} as bigint), a.n_steps)",
        "n_events": "a.n_events",
        "truncated": "t.file is not null",
        "params": st.x("$.params"),
        "tags": st.x("$.tags"),
        "file": "s.file",
    }
    cols = _cols("runs", exprs)
    mc_alias = mc.s("$.alias")
    mc_model = mc.s("$.model")
    return f"""
with s as (select file, run_id, ts, {st.select()} from {raw}
           where type = 'run_start' and seq = 0),
e as (select file, ts, {en.select()} from (
        select file, arg_max(j, seq) as j, arg_max(ts, seq) as ts from {raw}
        where type = 'run_end' group by file)),
a as (select file, count(*) as n_events, max(ts) as last_ts,
             count(*) filter (where type = 'tool_call') as n_tools,
             count(*) filter (where type = 'step') as n_steps
      from {raw} group by file),
c as (select file, count(*) as n,
             sum(coalesce(try_cast({mc.s("$.cost_usd")} as double), 0)) as cost,
             sum(coalesce(try_cast({mc.s("$.usage.input_tokens")} as bigint), 0)) as inp,
             sum(coalesce(try_cast({mc.s("$.usage.output_tokens")} as bigint), 0)) as outp,
             sum(coalesce(try_cast({mc.s("$.latency_s")} as double), 0)) as latency,
             mode(coalesce({mc_alias}, {mc_model})) as model
      from (select file, {mc.select()} from {raw} where type = 'model_call') group by file)
select {cols}
from s left join e using (file) left join a using (file) left join c using (file)
left join {raw}_trunc t on t.file = s.file
"""


def frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None
) -> pl.DataFrame:
    """The result of a query as a polars DataFrame."""
    rel = con.sql(sql, params=params) if params else con.sql(sql)
    if rel is None:  # a statement that returns nothing
        import polars as pl

        return pl.DataFrame()
    return rel.pl()
