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


def bench_throughput(work: Path, n_files: int, rounds: int = 3) -> dict:
    """Index(folder) against bare `encode` on the same texts, alternated: bare, index,
    bare, index, ..., bare; each index run is compared with the mean of the bare runs
    on either side of it (the shared machine's load drifts), and the median ratio is
    reported. Same model object, batch size (64) and torch thread count on both sides.
    Both sides are warm: the model has encoded once and the index's libraries (lancedb,
    pyarrow) are imported before any timing (the import is reported, not counted)."""
    import torch

    from forgekit.rag import Index
    from forgekit.rag.chunking import chunk_file
    from forgekit.rag.embedding import SentenceTransformerEmbedder

    corpus = work / "tp_corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    make_corpus(corpus, n_files)
    texts = [
        c.embed_text for p in sorted(corpus.glob("*.md")) for c in chunk_file(p, source=p.name)
    ]
    emb = SentenceTransformerEmbedder(batch_size=64)
    model = emb.model
    model.encode(texts[:64], batch_size=64)  # warm up the model
    t0 = time.perf_counter()
    import lancedb  # noqa: F401  (a one-time import, not per-chunk work)

    import_s = time.perf_counter() - t0

    def bare() -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        return time.perf_counter() - t0, time.process_time() - c0

    def index(r: int) -> tuple[float, float]:
        proj = work / f"tp_index{r}"
        shutil.rmtree(proj, ignore_errors=True)  # fresh table and embedding cache
        t0, c0 = time.perf_counter(), time.process_time()
        idx = Index(corpus, name="tp", project_dir=proj, embedder=emb, keywords={"enabled": False})
        s = time.perf_counter() - t0, time.process_time() - c0
        stored = sorted(
            r["title"] + "\n" + r["text"] if r["title"] else r["text"] for r in idx.chunks()
        )
        assert stored == sorted(texts), "the index must embed exactly the bare texts"
        assert idx.last_update.embedded == len(set(texts))
        shutil.rmtree(proj, ignore_errors=True)
        return s

    bares = [bare()]
    idxs: list[tuple[float, float]] = []
    for r in range(rounds):
        idxs.append(index(r))
        bares.append(bare())

    def ratios(k: int) -> list[float]:
        return [(bares[i][k] + bares[i + 1][k]) / 2 / idxs[i][k] for i in range(rounds)]

    bare_s = statistics.mean(b[0] for b in bares)
    index_s = statistics.mean(x[0] for x in idxs)
    return {
        "chunks": len(texts),
        "torch_threads": torch.get_num_threads(),
        "batch_size": 64,
        "lancedb_import_s": round(import_s, 2),
        "bare_encode_s": [round(b[0], 2) for b in bares],
        "index_s": [round(x[0], 2) for x in idxs],
        "bare_cpu_s": [round(b[1], 2) for b in bares],
        "index_cpu_s": [round(x[1], 2) for x in idxs],
        "bare_chunks_per_s": round(len(texts) / bare_s, 1),
        "index_chunks_per_s": round(len(texts) / index_s, 1),
        "ratios": [round(x, 3) for x in ratios(0)],
        # wall-clock chunks/s of the index over bare encode: the goal's measure
        "ratio": round(statistics.median(ratios(0)), 3),
        # the same on process CPU time (both torch threads): less sensitive to the
        # other programs on a shared machine
        "cpu_ratios": [round(x, 3) for x in ratios(1)],
        "cpu_ratio": round(statistics.median(ratios(1)), 3),
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

    from forgekit.rag import Index, search
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

    def variant(leg_columns: list[str], parallel: bool):
        def run(i: int) -> None:
            keep = search._LEG_COLUMNS, search.PARALLEL_LEGS
            search._LEG_COLUMNS, search.PARALLEL_LEGS = leg_columns, parallel
            try:
                run_search(tbl, qt[i], qv[i], cfg, has_keywords=False)
            finally:
                search._LEG_COLUMNS, search.PARALLEL_LEGS = keep

        return run

    variants = {
        # the default now: legs read ids, full rows for the final k, legs side by side
        "ids_only_parallel": variant(list(search._LEG_COLUMNS), True),
        "ids_only_sequential": variant(list(search._LEG_COLUMNS), False),
        # the session-1 way, the in-process baseline: every leg reads every column of
        # its 50 candidates (nothing is left for the final fetch), one leg after the other
        "full_rows_sequential": variant(list(search._COLUMNS), False),
    }

    def timeit() -> dict:
        # the ways alternate query by query, so the shared machine's load hits all alike
        lat: dict[str, list[float]] = {name: [] for name in variants}
        load = os.getloadavg()[0]
        for i in range(queries):
            for name, fn in variants.items():
                t = time.perf_counter()
                fn(i)
                lat[name].append((time.perf_counter() - t) * 1000)
        out: dict = {"load_avg_1m": [round(load, 1), round(os.getloadavg()[0], 1)]}
        for name, v in lat.items():
            v.sort()
            out[name] = {
                "p50_ms": round(v[len(v) // 2], 1),
                "p95_ms": round(v[int(len(v) * 0.95)], 1),
            }
        base = out["full_rows_sequential"]["p50_ms"]
        out["p50_speedup_vs_full_rows"] = {
            name: round(base / out[name]["p50_ms"], 2) for name in variants
        }
        return out

    for fn in variants.values():  # warm caches
        fn(0)
    flat = timeit()
    if not ann:
        return {"rows": rows, "load_s": round(load_s, 1), "flat": flat}
    t0 = time.perf_counter()
    idx.optimize(ann=True)
    ann_s = time.perf_counter() - t0
    tbl = idx.table
    for fn in variants.values():
        fn(0)
    ivf = timeit()
    return {
        "rows": rows,
        "load_s": round(load_s, 1),
        "flat": flat,
        "ivf_pq_build_s": round(ann_s, 1),
        "ivf_pq": ivf,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/forgekit-bench-idx")
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3, help="index runs in the throughput test")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--only", default="throughput,incremental,latency")
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-ann", action="store_true", help="skip the IVF-PQ latency run")
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    out: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
    }
    only = args.only.split(",")
    jobs = {
        "throughput": lambda: bench_throughput(work, args.files, args.rounds),
        "incremental": lambda: bench_incremental(work),
        "latency": lambda: bench_latency(work, args.rows, ann=not args.no_ann),
    }
    for name, job in jobs.items():
        if name in only:
            before = os.getloadavg()[0]
            res = job()
            res["load_avg_1m_before_after"] = [round(before, 1), round(os.getloadavg()[0], 1)]
            out[name] = res
            print(json.dumps({name: res}), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
