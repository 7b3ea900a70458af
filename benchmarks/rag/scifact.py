"""Retrieval quality on BEIR SciFact (train split): vector / BM25 / hybrid / hybrid +
keywords / + rerank, and the contribution of each forgekit component.

Run:  .venv/bin/python benchmarks/rag/scifact.py [--data ../shared/data/scifact]
      [--work /tmp/forgekit-bench-rag] [--max-queries N]

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


def plain_lancedb(idx, ds, k: int = 10) -> dict[str, float]:
    """The baseline: plain LanceDB hybrid search as a user would set it up (title + text,
    the same vectors, native FTS, `RRFReranker`), on the same table, nDCG@10."""
    from lancedb.rerankers import RRFReranker

    from forgekit.rag.embedding import embed_with_cache
    from forgekit.rag.metrics import ndcg_at_k

    qids = list(ds.qrels)
    vecs, _ = embed_with_cache(idx.embedder, [ds.queries[q] for q in qids], idx.cache)
    tbl = idx.table
    out = {}
    for name in ("hybrid",):
        scores = []
        for qid, v in zip(qids, vecs, strict=True):
            q = (
                tbl.search(query_type="hybrid", fts_columns="fts")
                .vector(v)
                .text(ds.queries[qid])
                .rerank(RRFReranker())
                .limit(k)
            )
            ranked = [r["doc_id"] for r in q.to_list()]
            scores.append(ndcg_at_k(ranked, ds.qrels[qid], k))
        out[f"plain LanceDB {name}"] = sum(scores) / len(scores)
    return out


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
        "--only", default=None, help="comma-separated index variants (default doc,chunk)"
    )
    args = ap.parse_args(argv)

    from forgekit.rag import BeirDataset, evaluate_retrieval, load_beir

    ds = load_beir(args.data, split="train")
    work = Path(args.work)
    if args.subset_from_cache:
        ds = cached_subset(ds, work)
    variants = {
        # whole abstracts (title + text), as plain LanceDB would store them
        "doc": {"chunking": {"chunk_size": 4000, "overlap": 0}},
        # windows over long abstracts, max-pooled per document at query time
        "chunk": {"chunking": {"chunk_size": 256, "overlap": 64}},
        # the same without KeyBERT (faster to build; keyword configs then fall back)
        "chunk_nokw": {
            "chunking": {"chunk_size": 256, "overlap": 64},
            "keywords": {"enabled": False},
        },
    }
    only = (args.only or "doc,chunk").split(",")
    variants = {k: v for k, v in variants.items() if k in only}
    one = {"mode": "hybrid", "keyword_weight": 1.0}  # plain RRF, as LanceDB's default
    configs = {
        "vector": {"mode": "vector"},
        "bm25": {"mode": "keyword"},
        "hybrid (RRF 1:1)": one,
        "hybrid + keyword leg": {**one, "keywords_weight": 0.5},
        "hybrid + query expansion": {**one, "expand_query": True},
        "hybrid + keywords (leg + expansion)": {
            **one,
            "keywords_weight": 0.5,
            "expand_query": True,
        },
        "hybrid BM25-weighted (1:1.5) = forgekit default": {
            "mode": "hybrid",
            "keyword_weight": 1.5,
        },
        "hybrid BM25-weighted + keywords": {
            "mode": "hybrid",
            "keyword_weight": 1.5,
            "keywords_weight": 0.5,
            "expand_query": True,
        },
    }
    out = {}
    for vname, vcfg in variants.items():
        suffix = "_subset" if args.subset_from_cache else ""
        idx = build(f"scifact_{vname}{suffix}", ds, work, **vcfg)
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
        base = plain_lancedb(idx, eval_ds)
        print(f"\n## baseline on the same table\n{base}\n", flush=True)
        rep = evaluate_retrieval(idx, eval_ds, configs=configs, k_values=(1, 5, 10, 100))
        print(f"\n## index variant: {vname}\n{rep.to_markdown()}\n", flush=True)
        out[vname] = {
            "corpus": len(ds.corpus),
            "claims": len(eval_ds.qrels),
            "baseline": base,
            "results": [r.model_dump(exclude={"per_query"}) for r in rep.results],
        }
        Path(args.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
