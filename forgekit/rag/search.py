"""Search over an index table: vector, keyword (BM25 full-text) and hybrid (score fusion
or weighted reciprocal rank fusion, see `forgekit.rag.fusion`), keyword expansion,
optional cross-encoder rerank, filters."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from forgekit.rag.fusion import FUSED_SCORE_NAME, Fusion, fuse, fuse_scores, pool_by_doc

if TYPE_CHECKING:
    import numpy as np

Mode = Literal["vector", "keyword", "hybrid"]
_COLUMNS = [
    "id",
    "source",
    "doc_id",
    "chunk_index",
    "text",
    "title",
    "kind",
    "section",
    "start_line",
    "end_line",
    "start_char",
    "end_char",
    "metadata",
    "keywords",
    "hash",
]
FILTER_COLUMNS = {
    "source",
    "doc_id",
    "kind",
    "section",
    "title",
    "chunk_index",
    "start_line",
    "end_line",
}


class SearchConfig(BaseModel):
    """How a query is answered (defaults are the measured best on SciFact, see docs/rag.md).

    Attributes:
        mode: "vector", "keyword" (BM25) or "hybrid" (fusion of both).
        k: results returned.
        candidates: hits fetched from each leg before fusion.
        fusion: how hybrid legs are fused. "score" (default): the weighted sum of each
            leg's scores divided by that leg's best score (`fusion.fuse_scores`; +0.02
            nDCG@10 over RRF on SciFact, see docs/rag.md). "rrf": weighted reciprocal
            rank fusion, score = sum w / (rrf_k + rank) (the default before; with
            vector_weight=1, keyword_weight=1.5 it is the earlier default exactly).
        rrf_k: the constant of reciprocal rank fusion.
        vector_weight: weight of the vector leg in the fusion.
        keyword_weight: weight of the BM25 leg over title + text (vector 0.6, BM25 0.4:
            chosen on the odd-numbered SciFact train claims, see docs/rag.md).
        keywords_weight: weight of a third leg, BM25 over the chunks' KeyBERT keywords
            (keyword boosting; 0 turns it off).
        expand_query: add the keywords of the top vector hits to the BM25 query
            (pseudo-relevance feedback).
        expansion_hits: how many top vector hits lend their keywords.
        rerank: a cross-encoder (sentence-transformers name or local path) that reorders
            the fused candidates; None for none.
        rerank_candidates: how many fused candidates the cross-encoder sees.
        threshold: drop results whose final score is below this (hybrid score fusion
            with the default weights scores in [0, 1]; the best hit of both legs is 1).
        group_by_doc: one result per document: each leg ranks documents by their best
            chunk (max-pooling) before the legs are fused, so a document whose best
            vector chunk and best BM25 chunk differ gets both scores.
    """

    model_config = ConfigDict(extra="forbid")

    mode: Mode = "hybrid"
    k: int = Field(default=5, ge=1)
    candidates: int = Field(default=50, ge=1)
    fusion: Fusion = "score"
    rrf_k: int = Field(default=60, ge=0)
    vector_weight: float = Field(default=0.6, ge=0)
    keyword_weight: float = Field(default=0.4, ge=0)
    keywords_weight: float = Field(default=0.0, ge=0)
    expand_query: bool = False
    expansion_hits: int = Field(default=3, ge=1)
    rerank: str | None = None
    rerank_candidates: int = Field(default=30, ge=1)
    threshold: float | None = None
    group_by_doc: bool = False


class SearchHit(BaseModel):
    """One result: the chunk, where it comes from, and every score that placed it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    source: str
    doc_id: str
    title: str = ""
    kind: str = ""
    section: str = ""
    start_line: int = 0
    end_line: int = 0
    start_char: int = 0
    end_char: int = 0
    score: float
    scores: dict[str, float] = Field(default_factory=dict)
    ranks: dict[str, int] = Field(default_factory=dict)
    keywords: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def span(self) -> str:
        return f"{self.source}:{self.start_line}-{self.end_line}"


class SearchResults(list[SearchHit]):
    """A list of hits that renders itself in a notebook."""

    def __init__(self, hits: list[SearchHit], query: str = "", mode: str = "") -> None:
        super().__init__(hits)
        self.query = query
        self.mode = mode

    def to_text(self, max_chars: int = 600) -> str:
        """Plain text for an agent's context: numbered hits with their source span."""
        if not self:
            return "No results."
        parts = []
        for i, h in enumerate(self, 1):
            body = h.text if len(h.text) <= max_chars else h.text[:max_chars] + " ..."
            head = f"[{i}] {h.span}" + (f" ({h.section})" if h.section else "")
            parts.append(f"{head} score={h.score:.4f}\n{body}")
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return f"SearchResults({self.mode} {self.query!r}: {len(self)} hits)\n{self.to_text(200)}"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for i, h in enumerate(self, 1):
            comps = ", ".join(f"{k}={v:.3f}" for k, v in h.scores.items())
            text = h.text if len(h.text) <= 400 else h.text[:400] + " …"
            rows.append(
                f"<tr><td>{i}</td><td>{h.score:.4f}</td><td><code>{esc(h.span)}</code>"
                f"<br><small>{esc(h.section)}</small></td><td>{esc(text)}</td>"
                f"<td><small>{esc(comps)}</small></td>"
                f"<td><small>{esc(', '.join(h.keywords))}</small></td></tr>"
            )
        return (
            f"<div><b>{esc(self.mode)}</b> search for <i>{esc(self.query)}</i>: "
            f"{len(self)} result(s)<table><thead><tr><th>#</th><th>score</th>"
            f"<th>source</th><th>text</th><th>components</th><th>keywords</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
        )


def _sql_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def filters_to_sql(
    filters: dict[str, Any] | None, where: str | None = None
) -> tuple[str | None, dict[str, Any]]:
    """SQL for filters on stored columns; the rest (keys of documents' metadata) are
    returned to be matched after the search."""
    clauses = [f"({where})"] if where else []
    rest: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        if key in FILTER_COLUMNS:
            if isinstance(value, list | tuple | set):
                vals = ", ".join(_sql_value(v) for v in value)
                clauses.append(f"{key} IN ({vals})")
            else:
                clauses.append(f"{key} = {_sql_value(value)}")
        else:
            rest[key] = value
    return (" AND ".join(clauses) or None), rest


def _meta_match(meta: dict[str, Any], rest: dict[str, Any]) -> bool:
    for key, value in rest.items():
        have = meta.get(key)
        if isinstance(value, list | tuple | set):
            if have not in value:
                return False
        elif have != value:
            return False
    return True


def _rows(tbl: Any) -> list[dict[str, Any]]:
    return tbl.to_pylist()


# run the vector leg of a hybrid query in a worker thread, beside the BM25 leg (LanceDB
# releases the GIL while it searches)
PARALLEL_LEGS = True
_POOL: list[Any] = []


def _leg_pool() -> Any:
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor

        _POOL.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix="forgekit-rag-leg"))
    return _POOL[0]


# what a leg reads per candidate: the fused ranking needs only these; the other columns
# (text, title, span, ...) are read for the final hits only (see `fetch_rows`)
_LEG_COLUMNS = ["id", "doc_id"]


def vector_leg(
    table: Any,
    vector: np.ndarray,
    n: int,
    where: str | None,
    columns: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The `n` nearest chunks (cosine); `columns` to read (default all but the vector),
    with `_rowid` and `_leg_score` (1 - cosine distance)."""
    q = table.search(vector, vector_column_name="vector").distance_type("cosine")
    if where:
        q = q.where(where, prefilter=True)
    cols = list(dict.fromkeys(_COLUMNS if columns is None else columns))
    rows = _rows(q.select([*cols, "_distance"]).with_row_id(True).limit(n).to_arrow())
    for r in rows:
        r["_leg_score"] = 1.0 - float(r.pop("_distance"))
    return rows


def keyword_leg(
    table: Any,
    text: str,
    n: int,
    where: str | None,
    column: str = "fts",
    columns: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The `n` best BM25 matches of `text` on the full-text `column`; `columns` to read
    (default all but the vector), with `_rowid` and `_leg_score` (BM25)."""
    if not text.strip():
        return []
    q = table.search(text, query_type="fts", fts_columns=column)
    if where:
        q = q.where(where, prefilter=True)
    cols = list(dict.fromkeys(_COLUMNS if columns is None else columns))
    try:
        rows = _rows(q.select([*cols, "_score"]).with_row_id(True).limit(n).to_arrow())
    except Exception as e:  # a query of only stop words or odd syntax
        if "no tokens" in str(e).lower() or "syntax" in str(e).lower():
            return []
        raise
    for r in rows:
        r["_leg_score"] = float(r.pop("_score"))
    return rows


def fetch_rows(table: Any, rows: list[dict[str, Any]]) -> None:
    """Complete `rows` read by a leg with only a few columns: every stored column but the
    vector, read by row id in one take (a leg's candidates are found by their row ids;
    any row whose id no longer matches, after a compaction, is read by its `id`)."""
    todo = [r for r in rows if "text" not in r]
    if not todo:
        return
    got: dict[str, dict[str, Any]] = {}
    by_rowid = [r["_rowid"] for r in todo if r.get("_rowid") is not None]
    if by_rowid:
        try:
            taken = table.take_row_ids(by_rowid).select(_COLUMNS).to_arrow().to_pylist()
        except Exception:  # row ids from another version of the table: read by id below
            taken = []
        got = {t["id"]: t for t in taken}
    missing = [r["id"] for r in todo if r["id"] not in got]
    if missing:
        cond = "id IN (" + ", ".join(_sql_value(i) for i in missing) + ")"
        found = table.search().where(cond).select(_COLUMNS).limit(len(missing)).to_arrow()
        got.update({t["id"]: t for t in found.to_pylist()})
    for r in todo:
        full = got.get(r["id"])
        if full is None:
            raise KeyError(f"chunk {r['id']!r} vanished from the index during the search")
        for key, value in full.items():
            r.setdefault(key, value)


def to_hit(
    row: dict[str, Any], score: float, scores: dict[str, float], ranks: dict[str, int]
) -> SearchHit:
    meta = row.get("metadata") or "{}"
    return SearchHit(
        id=row["id"],
        text=row["text"],
        source=row["source"],
        doc_id=row["doc_id"],
        title=row.get("title") or "",
        kind=row.get("kind") or "",
        section=row.get("section") or "",
        start_line=row.get("start_line") or 0,
        end_line=row.get("end_line") or 0,
        start_char=row.get("start_char") or 0,
        end_char=row.get("end_char") or 0,
        score=float(score),
        scores=scores,
        ranks=ranks,
        keywords=list(row.get("keywords") or []),
        metadata=json.loads(meta) if isinstance(meta, str) else dict(meta),
    )


def expansion_terms(rows: list[dict[str, Any]], query: str, n_hits: int) -> list[str]:
    """Keywords of the top hits not already in the query."""
    have = set(query.lower().split())
    out: list[str] = []
    for r in rows[:n_hits]:
        for kw in r.get("keywords") or []:
            if kw.lower() not in have and kw not in out:
                out.append(kw)
    return out


def run_search(
    table: Any,
    query: str,
    vector: np.ndarray | None,
    cfg: SearchConfig,
    *,
    filters: dict[str, Any] | None = None,
    where: str | None = None,
    reranker: Any = None,
    has_keywords: bool = True,
) -> SearchResults:
    """Answer one query on a LanceDB table written by `Index`."""
    sql, rest = filters_to_sql(filters, where)
    n = max(cfg.candidates, cfg.k) * (3 if rest else 1)
    if cfg.group_by_doc:
        n *= 2
    legs: dict[str, list[dict[str, Any]]] = {}
    weights: dict[str, float] = {}
    # each leg reads ids (and what fusion, filters and expansion need); the full rows
    # are read for the final hits only
    cols = [*_LEG_COLUMNS, *(["metadata"] if rest else [])]
    vec_job = None
    if cfg.mode in ("vector", "hybrid") or cfg.expand_query:
        assert vector is not None
        vec_cols = [*cols, *(["keywords"] if cfg.expand_query else [])]
        if cfg.mode == "hybrid" and not cfg.expand_query and PARALLEL_LEGS:
            # independent legs: the vector leg runs beside the BM25 leg(s)
            vec_job = _leg_pool().submit(vector_leg, table, vector, n, sql, columns=vec_cols)
            vec_rows = []
        else:
            vec_rows = vector_leg(table, vector, n, sql, columns=vec_cols)
        if cfg.mode != "keyword":
            legs["vector"] = vec_rows
            weights["vector"] = cfg.vector_weight if cfg.mode == "hybrid" else 1.0
    if cfg.mode in ("keyword", "hybrid"):
        text = query
        if cfg.expand_query:
            extra = expansion_terms(vec_rows, query, cfg.expansion_hits)
            text = " ".join([query, *extra])
        legs["keyword"] = keyword_leg(table, text, n, sql, columns=cols)
        weights["keyword"] = cfg.keyword_weight if cfg.mode == "hybrid" else 1.0
        if cfg.keywords_weight > 0 and has_keywords:
            legs["keywords"] = keyword_leg(
                table, query, n, sql, column="keywords_text", columns=cols
            )
            weights["keywords"] = cfg.keywords_weight
    if vec_job is not None:
        legs["vector"] = vec_job.result()
    if cfg.group_by_doc:  # documents by their best chunk in each leg, then fused
        legs = {leg: pool_by_doc(rows) for leg, rows in legs.items()}
    key = "doc_id" if cfg.group_by_doc else "id"
    if len(legs) == 1:
        leg, rows = next(iter(legs.items()))
        fused = [
            {**r, "_scores": {leg: r["_leg_score"]}, "_ranks": {leg: i}, "_rrf": r["_leg_score"]}
            for i, r in enumerate(rows, 1)
        ]
    else:
        if cfg.fusion == "rrf":
            fused = fuse(legs, weights, cfg.rrf_k, key=key)
        else:
            fused = fuse_scores(legs, weights, key=key)
        for m in fused:
            m["_scores"][FUSED_SCORE_NAME[cfg.fusion]] = m["_rrf"]
    if rest:
        fused = [m for m in fused if _meta_match(json.loads(m.get("metadata") or "{}"), rest)]
    if cfg.group_by_doc:
        fused = pool_by_doc(fused)
    if reranker is not None and fused:
        head = fused[: cfg.rerank_candidates]
        fetch_rows(table, head)
        pairs = [(query, f"{m.get('title') or ''}\n{m['text']}".strip()) for m in head]
        rs = reranker.predict(pairs, show_progress_bar=False)
        for m, s in zip(head, rs, strict=True):
            m["_scores"]["rerank"] = float(s)
            m["_rrf"] = float(s)
        fused = sorted(head, key=lambda m: -m["_rrf"]) + fused[cfg.rerank_candidates :]
    final = []
    for m in fused:
        if cfg.threshold is not None and m["_rrf"] < cfg.threshold:
            continue
        final.append(m)
        if len(final) >= cfg.k:
            break
    fetch_rows(table, final)
    hits = [to_hit(m, m["_rrf"], m["_scores"], m["_ranks"]) for m in final]
    return SearchResults(hits, query=query, mode=cfg.mode)
