"""Search over an index table: vector, keyword (BM25 full-text) and hybrid (weighted
reciprocal rank fusion), keyword expansion, optional cross-encoder rerank, filters."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
        rrf_k: the constant of reciprocal rank fusion, score = sum w / (rrf_k + rank).
        vector_weight: weight of the vector leg in the fusion.
        keyword_weight: weight of the BM25 leg over title + text (1.5: BM25 leads the
            fusion; +0.02 nDCG@10 over 1:1 on SciFact, see docs/rag.md).
        keywords_weight: weight of a third leg, BM25 over the chunks' KeyBERT keywords
            (keyword boosting; 0 turns it off).
        expand_query: add the keywords of the top vector hits to the BM25 query
            (pseudo-relevance feedback).
        expansion_hits: how many top vector hits lend their keywords.
        rerank: a cross-encoder (sentence-transformers name or local path) that reorders
            the fused candidates; None for none.
        rerank_candidates: how many fused candidates the cross-encoder sees.
        threshold: drop results whose final score is below this.
        group_by_doc: one result per document (its best chunk: max-pooling).
    """

    model_config = ConfigDict(extra="forbid")

    mode: Mode = "hybrid"
    k: int = Field(5, ge=1)
    candidates: int = Field(50, ge=1)
    rrf_k: int = Field(60, ge=0)
    vector_weight: float = Field(1.0, ge=0)
    keyword_weight: float = Field(1.5, ge=0)
    keywords_weight: float = Field(0.0, ge=0)
    expand_query: bool = False
    expansion_hits: int = Field(3, ge=1)
    rerank: str | None = None
    rerank_candidates: int = Field(30, ge=1)
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


def vector_leg(table: Any, vector: np.ndarray, n: int, where: str | None) -> list[dict[str, Any]]:
    q = table.search(vector, vector_column_name="vector").distance_type("cosine")
    if where:
        q = q.where(where, prefilter=True)
    rows = _rows(q.select([*_COLUMNS, "_distance"]).limit(n).to_arrow())
    for r in rows:
        r["_leg_score"] = 1.0 - float(r.pop("_distance"))
    return rows


def keyword_leg(
    table: Any, text: str, n: int, where: str | None, column: str = "fts"
) -> list[dict[str, Any]]:
    if not text.strip():
        return []
    q = table.search(text, query_type="fts", fts_columns=column)
    if where:
        q = q.where(where, prefilter=True)
    try:
        rows = _rows(q.select([*_COLUMNS, "_score"]).limit(n).to_arrow())
    except Exception as e:  # a query of only stop words or odd syntax
        if "no tokens" in str(e).lower() or "syntax" in str(e).lower():
            return []
        raise
    for r in rows:
        r["_leg_score"] = float(r.pop("_score"))
    return rows


def fuse(
    legs: dict[str, list[dict[str, Any]]], weights: dict[str, float], rrf_k: int
) -> list[dict[str, Any]]:
    """Weighted reciprocal rank fusion; every row keeps its per-leg scores and ranks."""
    merged: dict[str, dict[str, Any]] = {}
    for leg, rows in legs.items():
        w = weights.get(leg, 1.0)
        for rank, r in enumerate(rows, 1):
            m = merged.setdefault(r["id"], {**r, "_scores": {}, "_ranks": {}, "_rrf": 0.0})
            m["_scores"][leg] = r["_leg_score"]
            m["_ranks"][leg] = rank
            m["_rrf"] += w / (rrf_k + rank)
    return sorted(merged.values(), key=lambda m: (-m["_rrf"], m["id"]))


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
    if cfg.mode in ("vector", "hybrid") or cfg.expand_query:
        assert vector is not None
        vec_rows = vector_leg(table, vector, n, sql)
        if cfg.mode != "keyword":
            legs["vector"] = vec_rows
            weights["vector"] = cfg.vector_weight if cfg.mode == "hybrid" else 1.0
    if cfg.mode in ("keyword", "hybrid"):
        text = query
        if cfg.expand_query:
            extra = expansion_terms(vec_rows, query, cfg.expansion_hits)
            text = " ".join([query, *extra])
        legs["keyword"] = keyword_leg(table, text, n, sql)
        weights["keyword"] = cfg.keyword_weight if cfg.mode == "hybrid" else 1.0
        if cfg.keywords_weight > 0 and has_keywords:
            legs["keywords"] = keyword_leg(table, query, n, sql, column="keywords_text")
            weights["keywords"] = cfg.keywords_weight
    if len(legs) == 1:
        leg, rows = next(iter(legs.items()))
        fused = [
            {**r, "_scores": {leg: r["_leg_score"]}, "_ranks": {leg: i}, "_rrf": r["_leg_score"]}
            for i, r in enumerate(rows, 1)
        ]
    else:
        fused = fuse(legs, weights, cfg.rrf_k)
        for m in fused:
            m["_scores"]["rrf"] = m["_rrf"]
    if rest:
        fused = [m for m in fused if _meta_match(json.loads(m.get("metadata") or "{}"), rest)]
    if cfg.group_by_doc:
        seen: set[str] = set()
        pooled = []
        for m in fused:
            if m["doc_id"] not in seen:
                seen.add(m["doc_id"])
                pooled.append(m)
        fused = pooled
    if reranker is not None and fused:
        head = fused[: cfg.rerank_candidates]
        pairs = [(query, f"{m.get('title') or ''}\n{m['text']}".strip()) for m in head]
        rs = reranker.predict(pairs, show_progress_bar=False)
        for m, s in zip(head, rs, strict=True):
            m["_scores"]["rerank"] = float(s)
            m["_rrf"] = float(s)
        fused = sorted(head, key=lambda m: -m["_rrf"]) + fused[cfg.rerank_candidates :]
    hits = []
    for m in fused:
        if cfg.threshold is not None and m["_rrf"] < cfg.threshold:
            continue
        hits.append(to_hit(m, m["_rrf"], m["_scores"], m["_ranks"]))
        if len(hits) >= cfg.k:
            break
    return SearchResults(hits, query=query, mode=cfg.mode)
