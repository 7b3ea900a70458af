"""Retrieval quality on BEIR SciFact (train split): vector / BM25 / hybrid (RRF and score
fusion) / + KeyBERT keywords / chunked abstracts, and the contribution of each component.

Run:  .venv/bin/python benchmarks/rag/scifact.py [--data ../shared/data/scifact]
      [--work /tmp/forgekit-bench-rag] [--max-queries N] [--only doc,chunk,chunk200]

Every row is reported on the odd-numbered claim ids (where the default's parameters were
chosen), the even-numbered ones (held out) and all 809 claims.

The dataset (CC BY-NC) is read in place and never copied; indexes and the embedding
cache live in --work, so a second run reuses every embedding and keyword."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[2] / "shared" / "data" / "scifact"


def build(name: str, ds, work: Path, **cfg):
    from forgekit.rag import Index

    t0 = time.perf_counter()
    idx = Index(
        ds.documents(),
        name=name,
        project_dir=work,
        pii={"enabled": False},
        batch_sources=512,
        **cfg,
    )
    rep = idx.last_update
    print(
        f"[{name}] {len(idx)} chunks, embedded {rep.embedded} new, {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    return idx


def cached_subset(ds, work: Path):
    """The abstracts already embedded and keyworded (whole-abstract variant) in the work
    cache, and the claims whose relevant abstracts are all among them."""
    from forgekit.rag import BeirDataset
    from forgekit.rag.chunking import ChunkingConfig, chunk_document
    from forgekit.rag.embedding import EmbeddingCache
    from forgekit.rag.keywords import KeywordConfig

    cache = EmbeddingCache(work / ".forgekit" / "rag" / "embeddings.sqlite")
    cfg = ChunkingConfig(chunk_size=4000, overlap=0)
    hashes = {}
    for d in ds.documents():
        ch = chunk_document(d["text"], doc_id=d["id"], title=d["title"], cfg=cfg)
        hashes[d["id"]] = [c.hash for c in ch]
    allh = [h for hs in hashes.values() for h in hs]
    have_v = cache.get("st:all-MiniLM-L6-v2", allh)
    have_k = cache.get_keywords(KeywordConfig().key("st:all-MiniLM-L6-v2"), allh)
    keep = {d for d, hs in hashes.items() if all(h in have_v and h in have_k for h in hs)}
    qrels = {q: r for q, r in ds.qrels.items() if set(r) <= keep}
    print(f"cached subset: {len(keep)} abstracts, {len(qrels)} claims", flush=True)
    return BeirDataset(
        corpus={d: ds.corpus[d] for d in ds.corpus if d in keep},
        queries={q: ds.queries[q] for q in qrels},
        qrels=qrels,
        path=ds.path,
        split=ds.split,
    )


def plain_lancedb(idx, ds, k: int = 10) -> dict[str, float | None]:
    """The baseline: plain LanceDB hybrid search as a user would set it up (title + text,
    the same vectors, native FTS, `RRFReranker`), on the same table: nDCG@10 on the odd
    and even claim ids and all."""
    from lancedb.rerankers import RRFReranker

    from forgekit.rag.embedding import embed_with_cache
    from forgekit.rag.metrics import ndcg_at_k

    qids = list(ds.qrels)
    vecs, _ = embed_with_cache(idx.embedder, [ds.queries[q] for q in qids], idx.cache)
    tbl = idx.table
    per_query = {}
    for qid, v in zip(qids, vecs, strict=True):
        q = (
            tbl.search(query_type="hybrid", fts_columns="fts")
            .vector(v)
            .text(ds.queries[qid])
            .rerank(RRFReranker())
            .limit(k)
        )
        ranked = [r["doc_id"] for r in q.to_list()]
        per_query[qid] = {"ndcg@10": ndcg_at_k(ranked, ds.qrels[qid], k)}
    return halves(per_query)


# the rows of the table: each adds or changes one component
DEFAULT = {"mode": "hybrid", "fusion": "score", "vector_weight": 0.6, "keyword_weight": 0.4}
RRF_1_1 = {"mode": "hybrid", "fusion": "rrf", "vector_weight": 1.0, "keyword_weight": 1.0}
CONFIGS: dict[str, dict] = {
    "vector": {"mode": "vector"},
    "bm25": {"mode": "keyword"},
    "hybrid, RRF 1:1 (as plain LanceDB)": RRF_1_1,
    "hybrid, RRF 1:1, rrf_k=10": {**RRF_1_1, "rrf_k": 10},
    "hybrid, RRF 1:1.5 (default before)": {**RRF_1_1, "keyword_weight": 1.5},
    "hybrid, score fusion 0.5:0.5": {**DEFAULT, "vector_weight": 0.5, "keyword_weight": 0.5},
    "hybrid, score fusion 0.6:0.4 (forgekit default)": DEFAULT,
    "default + KeyBERT keyword leg (w 0.2)": {**DEFAULT, "keywords_weight": 0.2},
    "default + KeyBERT query expansion": {**DEFAULT, "expand_query": True},
    "RRF 1:1 + KeyBERT keyword leg (w 0.5)": {**RRF_1_1, "keywords_weight": 0.5},
}
# chunked abstracts: no KeyBERT (it hurt on whole abstracts), the fusion rows only
CHUNK_CONFIGS = [
    "vector",
    "bm25",
    "hybrid, RRF 1:1 (as plain LanceDB)",
    "hybrid, RRF 1:1.5 (default before)",
    "hybrid, score fusion 0.6:0.4 (forgekit default)",
]


def halves(per_query: dict[str, dict[str, float]], metric: str = "ndcg@10") -> dict:
    """Mean `metric` on the odd-numbered claim ids, the even-numbered ones and all."""
    odd = [m[metric] for q, m in per_query.items() if int(q) % 2 == 1]
    even = [m[metric] for q, m in per_query.items() if int(q) % 2 == 0]
    allq = odd + even

    def mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    return {"odd": mean(odd), "even": mean(even), "all": mean(allq), "n_odd": len(odd)}


def table(results: list[dict], base: dict[str, dict]) -> str:
    def f(x: float | None) -> str:
        return "" if x is None else f"{x:.3f}"

    lines = [
        "| configuration | nDCG@10 odd (tuning) | nDCG@10 even (held out) | nDCG@10 all "
        "| recall@10 | recall@100 | MRR | MAP |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, h in base.items():
        lines.append(f"| {name} | {f(h['odd'])} | {f(h['even'])} | {f(h['all'])} | | | | |")
    for r in results:
        m, h = r["metrics"], r["halves"]
        lines.append(
            f"| {r['name']} | {f(h['odd'])} | {f(h['even'])} | **{f(h['all'])}** | "
            f"{f(m['recall@10'])} | {f(m['recall@100'])} | {f(m['mrr'])} | {f(m['map'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--work", default="/tmp/forgekit-bench-rag")
    ap.add_argument("--max-queries", type=int, default=None)
    ap.add_argument("--out", default=str(HERE / "scifact_results.json"))
    ap.add_argument(
        "--subset-from-cache",
        action="store_true",
        help="evaluate on the abstracts whose vectors and keywords are already "
        "cached, and the claims whose relevant abstracts are all among them",
    )
    ap.add_argument(
        "--only",
        default=None,
        help="comma-separated index variants (default doc,chunk,chunk200)",
    )
    ap.add_argument("--configs", default=None, help="comma-separated row names to run")
    args = ap.parse_args(argv)

    from forgekit.rag import BeirDataset, evaluate_retrieval, load_beir

    ds = load_beir(args.data, split="train")
    work = Path(args.work)
    if args.subset_from_cache:
        ds = cached_subset(ds, work)
    variants = {
        # whole abstracts (title + text), as plain LanceDB would store them
        "doc": ({"chunking": {"chunk_size": 4000, "overlap": 0}}, list(CONFIGS)),
        # 256-token windows (64 overlap) over long abstracts, max-pooled per document
        "chunk": (
            {"chunking": {"chunk_size": 256, "overlap": 64}, "keywords": {"enabled": False}},
            CHUNK_CONFIGS,
        ),
        # the library's default chunking (200-token windows, 40 overlap), max-pooled
        "chunk200": ({"keywords": {"enabled": False}}, CHUNK_CONFIGS),
    }
    only = (args.only or "doc,chunk,chunk200").split(",")
    variants = {k: v for k, v in variants.items() if k in only}
    eval_ds = ds
    if args.max_queries:  # the first N claims, against the whole corpus
        qids = list(ds.qrels)[: args.max_queries]
        eval_ds = BeirDataset(
            corpus=ds.corpus,
            queries=ds.queries,
            qrels={q: ds.qrels[q] for q in qids},
            path=ds.path,
            split=ds.split,
        )
    # one entry per index variant; a run of some variants keeps the others' entries
    out_path = Path(args.out)
    out: dict = json.loads(out_path.read_text()) if out_path.exists() else {}
    for vname, (vcfg, rows) in variants.items():
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        load_start = os.getloadavg()
        if args.configs:
            rows = [r for r in rows if r in args.configs.split(",")]
        suffix = "_subset" if args.subset_from_cache else ""
        idx = build(f"scifact_{vname}{suffix}", ds, work, **vcfg)
        base = {}
        if vname == "doc":
            base = {"plain LanceDB hybrid (RRFReranker), same table": plain_lancedb(idx, eval_ds)}
        rep = evaluate_retrieval(
            idx,
            eval_ds,
            configs={r: CONFIGS[r] for r in rows},
            k_values=(1, 5, 10, 100),
            keep_per_query=True,
        )
        results = [
            {
                **r.model_dump(exclude={"per_query"}),
                "halves": halves(r.per_query),
            }
            for r in rep.results
        ]
        md = table(results, base)
        print(f"\n## index variant: {vname} (load average {os.getloadavg()})\n{md}\n", flush=True)
        out[vname] = {
            "corpus": len(ds.corpus),
            "claims": len(eval_ds.qrels),
            "chunks": len(idx),
            "baseline": base,
            "results": results,
            "table": md,
            "date": started,
            "loadavg_start": load_start,
            "loadavg_end": os.getloadavg(),
        }
        out_path.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
