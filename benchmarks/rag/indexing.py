"""Indexing and query benchmarks for forgekit.rag (see README.md beside this file).

1. throughput: chunks/s of `Index` (chunk, PII filter, hash, embed, LanceDB write, FTS)
   as a ratio of bare `SentenceTransformer.encode` on the same chunk texts, same process.
2. incremental: re-index after changing 1 of 1,000 files.
3. latency: hybrid query p50/p95 at 100k chunks (synthetic vectors and text).

Run:  .venv/bin/python benchmarks/rag/indexing.py [--work /tmp/forgekit-bench-idx]
      [--files 300] [--rows 100000] [--only throughput,incremental,latency]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORDS = (
    "index search vector keyword chunk embed model agent trajectory replay budget "
    "gateway token cache fusion rank query document section heading python markdown "
    "latency throughput batch filter metric recall precision score table column "
    "protein cell gene therapy patient trial dose risk cancer immune response"
).split()


def _para(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def make_corpus(root: Path, n_files: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        secs = [f"## Part {j}\n\n{_para(rng, rng.randint(40, 120))}\n" for j in range(3)]
        (root / f"doc{i:04}.md").write_text(f"# Doc {i}\n\n" + "\n".join(secs))


def bench_throughput(work: Path, n_files: int) -> dict:
    from forgekit.rag import Index
    from forgekit.rag.chunking import chunk_file
    from forgekit.rag.embedding import SentenceTransformerEmbedder

    corpus = work / "tp_corpus"
    make_corpus(corpus, n_files)
    texts = [
        c.embed_text for p in sorted(corpus.glob("*.md")) for c in chunk_file(p, source=p.name)
    ]
    emb = SentenceTransformerEmbedder()
    model = emb.model
    model.encode(texts[:64], batch_size=64)  # warm up

    def bare() -> float:
        t0 = time.perf_counter()
        model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        return time.perf_counter() - t0

    b1 = bare()
    runs = {}
    for label, kw in [("index", {"keywords": {"enabled": False}})]:
        proj = work / f"tp_{label}"
        shutil.rmtree(proj, ignore_errors=True)
        t0 = time.perf_counter()
        idx = Index(corpus, name="tp", project_dir=proj, embedder=emb, **kw)
        runs[label] = time.perf_counter() - t0
        assert len(idx) == len(texts), (len(idx), len(texts))
    b2 = bare()
    bare_s = (b1 + b2) / 2
    return {
        "chunks": len(texts),
        "bare_encode_s": round(bare_s, 2),
        "bare_chunks_per_s": round(len(texts) / bare_s, 1),
        "index_s": round(runs["index"], 2),
        "index_chunks_per_s": round(len(texts) / runs["index"], 1),
        "ratio": round(bare_s / runs["index"], 3),
    }


def bench_incremental(work: Path, n_files: int = 1000) -> dict:
    from forgekit.rag import Index

    corpus = work / "inc_corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    rng = random.Random(1)
    corpus.mkdir(parents=True)
    for i in range(n_files):
        (corpus / f"f{i:04}.md").write_text(f"# File {i}\n\n{_para(rng, 30)}\n")
    proj = work / "inc_proj"
    shutil.rmtree(proj, ignore_errors=True)
    t0 = time.perf_counter()
    idx = Index(
        corpus, name="inc", project_dir=proj, keywords={"enabled": False}, batch_sources=256
    )
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    noop = idx.update()
    assert not noop.changed
    noop_s = time.perf_counter() - t0
    times = []
    for r in range(3):
        (corpus / f"f{r * 7:04}.md").write_text(f"# File changed {r}\n\n{_para(rng, 30)}\n")
        t0 = time.perf_counter()
        rep = idx.update()
        times.append(time.perf_counter() - t0)
        assert rep.updated == [f"f{r * 7:04}.md"] and rep.embedded == 1, rep
    return {
        "files": n_files,
        "chunks": len(idx),
        "full_build_s": round(build_s, 2),
        "noop_update_s": round(noop_s, 3),
        "one_file_update_s": [round(t, 3) for t in times],
        "one_file_update_median_s": round(statistics.median(times), 3),
    }


def bench_latency(work: Path, rows: int, queries: int = 200, ann: bool = True) -> dict:
    import numpy as np
    import pyarrow as pa

    from forgekit.rag import Index
    from forgekit.rag.search import SearchConfig, run_search

    class Synthetic:
        model_id = "synthetic"
        dim = 384

        def embed(self, texts):
            raise AssertionError("not used")

    proj = work / "lat_proj"
    shutil.rmtree(proj, ignore_errors=True)
    idx = Index(
        None,
        name="lat",
        project_dir=proj,
        embedder=Synthetic(),
        build=False,
        keywords={"enabled": False},
    )
    rng = np.random.default_rng(0)
    vocab = np.array(WORDS + [f"term{i}" for i in range(5000)])
    tbl = idx._ensure_table()
    schema = idx._schema()
    t0 = time.perf_counter()
    step = 20_000
    for s in range(0, rows, step):
        n = min(step, rows - s)
        vec = rng.standard_normal((n, 384)).astype(np.float32)
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        words = vocab[rng.integers(0, len(vocab), size=(n, 60))]
        text = [" ".join(w) for w in words]
        cols = {
            "id": [f"s{s + i}#0" for i in range(n)],
            "source": [f"s{s + i}" for i in range(n)],
            "doc_id": [f"s{s + i}" for i in range(n)],
            "chunk_index": [0] * n,
            "text": text,
            "title": [""] * n,
            "kind": ["text"] * n,
            "section": [""] * n,
            "start_line": [1] * n,
            "end_line": [1] * n,
            "start_char": [0] * n,
            "end_char": [len(t) for t in text],
            "metadata": ["{}"] * n,
            "hash": [""] * n,
            "keywords": [[] for _ in range(n)],
            "keywords_text": [""] * n,
            "fts": text,
        }
        arrays = [pa.array(cols[f.name], type=f.type) for f in schema if f.name != "vector"]
        arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(vec.reshape(-1)), 384))
        tbl.add(pa.Table.from_arrays(arrays, schema=schema))
    idx._build_fts()
    load_s = time.perf_counter() - t0
    qv = rng.standard_normal((queries, 384)).astype(np.float32)
    qv /= np.linalg.norm(qv, axis=1, keepdims=True)
    qt = [" ".join(vocab[rng.integers(0, 200, size=4)]) for _ in range(queries)]
    cfg = SearchConfig(mode="hybrid", k=10, candidates=50)

    def timeit() -> dict:
        lat = []
        for i in range(queries):
            t = time.perf_counter()
            run_search(tbl, qt[i], qv[i], cfg, has_keywords=False)
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        return {
            "p50_ms": round(lat[len(lat) // 2], 1),
            "p95_ms": round(lat[int(len(lat) * 0.95)], 1),
        }

    run_search(tbl, qt[0], qv[0], cfg, has_keywords=False)  # warm caches
    flat = timeit()
    if not ann:
        return {"rows": rows, "load_s": round(load_s, 1), "flat": flat}
    t0 = time.perf_counter()
    idx.optimize(ann=True)
    ann_s = time.perf_counter() - t0
    tbl = idx.table
    run_search(tbl, qt[0], qv[0], cfg, has_keywords=False)
    ann = timeit()
    return {
        "rows": rows,
        "load_s": round(load_s, 1),
        "flat": flat,
        "ivf_pq_build_s": round(ann_s, 1),
        "ivf_pq": ann,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/forgekit-bench-idx")
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--only", default="throughput,incremental,latency")
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-ann", action="store_true", help="skip the IVF-PQ latency run")
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    out = {"cpus": os.cpu_count()}
    only = args.only.split(",")
    if "throughput" in only:
        out["throughput"] = bench_throughput(work, args.files)
        print(json.dumps({"throughput": out["throughput"]}), flush=True)
    if "incremental" in only:
        out["incremental"] = bench_incremental(work)
        print(json.dumps({"incremental": out["incremental"]}), flush=True)
    if "latency" in only:
        out["latency"] = bench_latency(work, args.rows, ann=not args.no_ann)
        print(json.dumps({"latency": out["latency"]}), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
