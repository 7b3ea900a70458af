"""SciFact ablations that the library does not ship (they did not help), and the tuning
grid of the default fusion: measured on the whole-abstract index `scifact.py` builds.

Run (after `scifact.py --only doc`, which builds the index and fills the cache):
      .venv/bin/python benchmarks/rag/scifact_ablations.py [--work /tmp/forgekit-bench-rag]

Each leg is fetched once per claim (vector: exact cosine over the table's vectors, the
same as LanceDB's flat search; BM25: LanceDB native FTS, 100 deep), then fused in Python
with `forgekit.rag.fusion`, so the fusion rows match `Index.search` (candidates=100).
Rows report nDCG@10 on the odd-numbered claim ids (the tuning half), the even-numbered
ones (held out) and all 809. The dataset is read in place, never copied."""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[2] / "shared" / "data" / "scifact"
DEPTH = 100
_WORD = re.compile(r"[a-z][a-z0-9\-]{2,}")
# a small English + abstract-boilerplate stop list for the RM3-style expansion terms
_STOP = set(
    "a an and are as at be but by for if in into is it no not of on or such that the their "
    "then there these they this to was will with we were which from has have had been than "
    "also between both can our its may more most other over under during after within "
    "without using used use study studies patients patient results result showed show "
    "shows".split()
)


def rows_of(pairs):
    return [{"id": i, "doc_id": i, "_leg_score": s} for i, s in pairs]


def main(argv: list[str] | None = None) -> int:
    import lancedb
    import numpy as np

    from forgekit.rag import load_beir
    from forgekit.rag.embedding import EmbeddingCache, embed_with_cache, make_embedder
    from forgekit.rag.fusion import fuse, fuse_scores
    from forgekit.rag.metrics import ndcg_at_k

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--work", default="/tmp/forgekit-bench-rag")
    ap.add_argument("--out", default=str(HERE / "scifact_ablations.json"))
    args = ap.parse_args(argv)

    ds = load_beir(args.data, split="train")
    rag = Path(args.work) / ".forgekit" / "rag"
    db = lancedb.connect(str(rag / "lancedb"))
    if "scifact_doc" not in db.list_tables().tables:
        print("run benchmarks/rag/scifact.py --only doc first (it builds the index)")
        return 2
    tbl = db.open_table("scifact_doc")
    data = tbl.to_arrow().select(["doc_id", "title", "text", "fts", "vector"])
    docs = data["doc_id"].to_pylist()
    vecs = np.array(data["vector"].to_pylist(), dtype=np.float32)
    qids = list(ds.qrels)
    qv, _ = embed_with_cache(
        make_embedder("default"),
        [ds.queries[q] for q in qids],
        EmbeddingCache(rag / "embeddings.sqlite"),
    )
    qvec = dict(zip(qids, qv, strict=True))

    def vector_leg(v):
        s = vecs @ v
        top = np.argsort(-s)[:DEPTH]
        return rows_of([(docs[i], float(s[i])) for i in top])

    def bm25_leg(table, text, column="fts"):
        if not text.strip():
            return []
        try:
            got = table.search(text, query_type="fts", fts_columns=column)
            got = got.select(["doc_id", "_score"]).limit(DEPTH).to_list()
        except Exception:  # a query of stop words only
            return []
        return rows_of([(r["doc_id"], r["_score"]) for r in got])

    V = {q: vector_leg(qvec[q]) for q in qids}
    B = {q: bm25_leg(tbl, ds.queries[q]) for q in qids}
    results: dict[str, dict[str, float]] = {}

    def report(name, ranked):
        per = {q: ndcg_at_k([r["doc_id"] for r in ranked[q]], ds.qrels[q], 10) for q in qids}
        odd = [v for q, v in per.items() if int(q) % 2 == 1]
        even = [v for q, v in per.items() if int(q) % 2 == 0]
        res = {
            "odd": sum(odd) / len(odd),
            "even": sum(even) / len(even),
            "all": sum(per.values()) / len(per),
        }
        results[name] = res
        print(f"| {name} | {res['odd']:.4f} | {res['even']:.4f} | {res['all']:.4f} |", flush=True)

    def score(legs, w):
        return fuse_scores(legs, w)

    print("| row | nDCG@10 odd (tuning) | even (held out) | all |\n|---|---|---|---|")
    report("vector", V)
    report("bm25 (LanceDB FTS default: stemming, stop words removed)", B)
    # -- fusion: RRF weights and k, score fusion weights (the default's tuning grid) -----
    for wk in (1.0, 1.5, 2.0):
        for k in (10, 60):
            report(
                f"RRF 1:{wk}, rrf_k={k}",
                {q: fuse({"v": V[q], "k": B[q]}, {"v": 1.0, "k": wk}, k) for q in qids},
            )
    for a in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
        report(
            f"score fusion, BM25 weight {a} (vector {1 - a:.2f})",
            {q: score({"v": V[q], "k": B[q]}, {"v": 1 - a, "k": a}) for q in qids},
        )
    base = {q: score({"v": V[q], "k": B[q]}, {"v": 0.6, "k": 0.4}) for q in qids}

    # -- other normalisations (convex combination, missing = the leg's lowest) ---------
    def norm_fuse(legs, w, how):
        """Convex combination of min-max or z-normalised scores (missing: the leg's lowest)."""
        merged: dict[str, float] = {}
        normed = {}
        for leg, rows in legs.items():
            s = np.array([r["_leg_score"] for r in rows], dtype=float)
            if how == "minmax":
                z = (s - s.min()) / ((s.max() - s.min()) or 1.0)
            else:
                z = (s - s.mean()) / (s.std() or 1.0)
            normed[leg] = dict(zip([r["doc_id"] for r in rows], z.tolist(), strict=True))
        for d in set().union(*normed.values()):
            merged[d] = sum(w[leg] * n.get(d, min(n.values())) for leg, n in normed.items())
        return [{"doc_id": d} for d in sorted(merged, key=lambda d: (-merged[d], d))]

    for how in ("minmax", "z"):
        for a in (0.4, 0.5):
            report(
                f"{how} fusion, BM25 weight {a}",
                {q: norm_fuse({"v": V[q], "k": B[q]}, {"v": 1 - a, "k": a}, how) for q in qids},
            )

    # -- dense pseudo-relevance feedback (Rocchio): q + beta * mean(top-k fused vectors) --
    row_of = {d: i for i, d in enumerate(docs)}
    for k in (3, 10):
        for beta in (0.5, 1.0):
            ranked = {}
            for q in qids:
                top = [row_of[r["doc_id"]] for r in base[q][:k]]
                v2 = qvec[q] + beta * vecs[top].mean(0)
                v2 /= np.linalg.norm(v2)
                ranked[q] = score({"v": vector_leg(v2), "k": B[q]}, {"v": 0.6, "k": 0.4})
            report(f"default + dense PRF (Rocchio, top {k}, beta {beta})", ranked)

    # -- RM3-style BM25 expansion: top tf-idf terms of the top-k fused abstracts ----------
    toks = {
        d: _WORD.findall(f"{t}\n{x}".lower()) for d, t, x in zip(docs, *_cols(data), strict=True)
    }
    df = collections.Counter(w for ts in toks.values() for w in set(ts))

    def terms(q, top, m):
        have = set(_WORD.findall(ds.queries[q].lower()))
        sc: collections.Counter[str] = collections.Counter()
        for d in top:
            tf = collections.Counter(toks[d])
            for w, c in tf.items():
                if w not in _STOP and w not in have:
                    sc[w] += c / len(toks[d]) * math.log(len(toks) / df[w])
        return [w for w, _ in sc.most_common(m)]

    for k, m in ((3, 10), (5, 10)):
        exp = {q: terms(q, [r["doc_id"] for r in base[q][:k]], m) for q in qids}
        E = {q: bm25_leg(tbl, " ".join(exp[q])) for q in qids}
        report(
            f"default + RM3-style expansion leg (top {k}, {m} terms, w 0.1)",
            {
                q: score({"v": V[q], "k": B[q], "e": E[q]}, {"v": 0.6, "k": 0.4, "e": 0.1})
                for q in qids
            },
        )
        B2 = {q: bm25_leg(tbl, ds.queries[q] + " " + " ".join(exp[q])) for q in qids}
        report(
            f"default, RM3-style terms added to the BM25 query (top {k}, {m} terms)",
            {q: score({"v": V[q], "k": B2[q]}, {"v": 0.6, "k": 0.4}) for q in qids},
        )

    # -- the full-text tokenizer and the title field: a scratch copy of the table ---------
    scratch = lancedb.connect(str(Path(args.work) / "ablations_db"))
    t2 = scratch.create_table("t", data=data.select(["doc_id", "title", "fts"]), mode="overwrite")
    t2.create_index("title", config=lancedb.index.FTS(), replace=True)
    T = {q: bm25_leg(t2, ds.queries[q], column="title") for q in qids}
    report("bm25 over titles only", T)
    for wt in (0.05, 0.1, 0.2):
        report(
            f"default + title BM25 leg (w {wt})",
            {
                q: score({"v": V[q], "k": B[q], "t": T[q]}, {"v": 0.6, "k": 0.4, "t": wt})
                for q in qids
            },
        )
    for name, kw in (
        ("no stemming", {"stem": False}),
        ("stop words kept", {"remove_stop_words": False}),
    ):
        t2.create_index("fts", config=lancedb.index.FTS(**kw), replace=True)
        B3 = {q: bm25_leg(t2, ds.queries[q]) for q in qids}
        report(f"bm25, FTS {name}", B3)
        report(
            f"default fusion, FTS {name}",
            {q: score({"v": V[q], "k": B3[q]}, {"v": 0.6, "k": 0.4}) for q in qids},
        )
    # -- chunked abstracts: fuse chunks then keep each abstract's best, or pool per leg --
    if "scifact_chunk" in db.list_tables().tables:
        from forgekit.rag.fusion import pool_by_doc

        ct = db.open_table("scifact_chunk")
        cdata = ct.to_arrow().select(["id", "doc_id", "vector"])
        cids, cdocs = cdata["id"].to_pylist(), cdata["doc_id"].to_pylist()
        cvecs = np.array(cdata["vector"].to_pylist(), dtype=np.float32)
        doc_of = dict(zip(cids, cdocs, strict=True))

        def chunk_rows(pairs):
            return [{"id": i, "doc_id": doc_of[i], "_leg_score": s} for i, s in pairs]

        CV, CB = {}, {}
        for q in qids:
            sims = cvecs @ qvec[q]
            top = np.argsort(-sims)[:DEPTH]
            CV[q] = chunk_rows([(cids[i], float(sims[i])) for i in top])
            got = ct.search(ds.queries[q], query_type="fts", fts_columns="fts")
            got = got.select(["id", "_score"]).limit(DEPTH).to_list()
            CB[q] = chunk_rows([(r["id"], r["_score"]) for r in got])
        w = {"v": 0.6, "k": 0.4}
        report(
            "256-token chunks: fuse chunks, then each abstract's best fused chunk",
            {q: pool_by_doc(score({"v": CV[q], "k": CB[q]}, w)) for q in qids},
        )
        report(
            "256-token chunks: each leg pooled per abstract, then fused (forgekit)",
            {
                q: fuse_scores({"v": pool_by_doc(CV[q]), "k": pool_by_doc(CB[q])}, w, key="doc_id")
                for q in qids
            },
        )
    out = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg": os.getloadavg(),
        "claims": len(qids),
        "rows": results,
    }
    Path(args.out).write_text(json.dumps(out, indent=1))
    return 0


def _cols(data):
    return data["title"].to_pylist(), data["text"].to_pylist()


if __name__ == "__main__":
    sys.exit(main())
