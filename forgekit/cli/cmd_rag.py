"""`forgekit rag index|search|eval`: build an index, query it, evaluate it on BEIR data."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forgekit.rag import Index


def _index(
    args: argparse.Namespace,
    source: str | Path | Sequence[Any] | None = None,
    build: bool = True,
) -> Index:
    from forgekit.rag import Index

    opts: dict[str, Any] = {}
    if args.embedder:
        opts["embedder"] = args.embedder
    if getattr(args, "no_keywords", False):
        opts["keywords"] = {"enabled": False}
    if getattr(args, "chunk_size", None):
        opts["chunking"] = {
            "chunk_size": args.chunk_size,
            "overlap": min(args.overlap, args.chunk_size - 1),
        }
    return Index(source, name=args.name, project_dir=args.project_dir, build=build, **opts)


def run_index(args: argparse.Namespace) -> int:
    idx = _index(args, args.path)
    rep = idx.last_update
    assert rep is not None
    print(
        f"index {idx.name!r}: {len(idx)} chunks from {rep.unchanged + len(rep.added) + len(rep.updated)} "
        f"sources; added {len(rep.added)}, updated {len(rep.updated)}, removed "
        f"{len(rep.removed)}, embedded {rep.embedded} in {rep.seconds:.2f}s"
    )
    if rep.pii_hits:
        print("pii filtered: " + ", ".join(f"{k}={v}" for k, v in sorted(rep.pii_hits.items())))
    if args.watch:
        return _watch(idx, args.debounce)
    return 0


def _watch(idx: Index, debounce_s: float) -> int:
    """Follow the folder until SIGTERM/Ctrl-C; one line per update or error."""
    import signal
    import sys
    import time

    from forgekit.rag.watch import IndexWatcher, describe_update

    def stamp() -> str:
        return time.strftime("%H:%M:%S")

    w = IndexWatcher(
        idx,
        debounce_s=debounce_s,
        on_update=lambda r: print(
            f"{stamp()} index {idx.name!r}: {describe_update(r)}; {len(idx)} chunks", flush=True
        ),
        on_error=lambda e: print(
            f"{stamp()} forgekit: index {idx.name!r}: update failed (watch goes on): {e}",
            file=sys.stderr,
            flush=True,
        ),
    )

    def on_signal(signum: int, frame: object) -> None:
        w.stop_event.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    w.start()  # installs the watcher, then catches up with changes made meanwhile
    print(f"watching {idx.root} (debounce {debounce_s:g}s); Ctrl-C to stop", flush=True)
    while w.thread is not None and w.thread.is_alive():
        w.thread.join(0.5)  # signals are handled between joins
    print(f"stopped watching; {w.updates} update(s), {w.errors} error(s)", flush=True)
    return 0


def run_search(args: argparse.Namespace) -> int:
    from forgekit.core.errors import ConfigError

    idx = _index(args, build=False)
    if idx.table is None:
        raise ConfigError(
            f"no index named {args.name!r} in {idx.dir}; build it with `forgekit rag index PATH`"
        )
    filters = json.loads(args.filters) if args.filters else None
    hits = idx.search(
        args.query, k=args.k, mode=args.mode, filters=filters, threshold=args.threshold
    )
    if args.json:
        print(json.dumps([h.model_dump() for h in hits], indent=1))
    else:
        print(hits.to_text())
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from forgekit.rag import evaluate_retrieval, load_beir

    ds = load_beir(args.dataset, split=args.split)
    if args.max_queries:
        ds = ds.subset(args.max_queries, distractors=args.distractors)
    idx = _index(args, ds.documents())
    configs = None
    if args.configs:
        from forgekit.rag.retrieval_eval import STANDARD_CONFIGS

        names = args.configs.split(",")
        unknown = [n for n in names if n not in STANDARD_CONFIGS and n != "default"]
        if unknown:
            from forgekit.core.errors import ConfigError

            raise ConfigError(
                f"unknown config(s) {unknown}; known: {', '.join([*STANDARD_CONFIGS, 'default'])}",
                key="--configs",
            )
        configs = {n: STANDARD_CONFIGS.get(n, {}) for n in names}
    if args.rerank:
        configs = dict(configs or {})
        configs["+rerank"] = {"rerank": args.rerank}
    ks = tuple(int(k) for k in args.k.split(","))
    rep = evaluate_retrieval(idx, ds, configs=configs, k_values=ks, mlflow_uri=args.mlflow)
    print(rep.to_markdown())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rag", help="build, search and evaluate retrieval indexes")
    rsub = p.add_subparsers(dest="rag_command", metavar="SUBCOMMAND", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--name", default="default", help="index name (default: default)")
        q.add_argument(
            "--project-dir",
            default=None,
            help="where .forgekit/rag lives (default: the project: FORGEKIT_HOME, else the "
            "nearest folder up with forgekit.yaml or .forgekit/, else the cwd)",
        )
        q.add_argument(
            "--embedder", default=None, help="sentence-transformers name/path or litellm:<model>"
        )

    q = rsub.add_parser("index", help="index a folder (incremental)")
    q.add_argument("path")
    common(q)
    q.add_argument("--no-keywords", action="store_true", help="skip KeyBERT keywords")
    q.add_argument("--chunk-size", type=int, default=None)
    q.add_argument("--overlap", type=int, default=40)
    q.add_argument(
        "--watch",
        action="store_true",
        help="keep the index current as files change (until SIGTERM/Ctrl-C)",
    )
    q.add_argument(
        "--debounce", type=float, default=1.0, help="with --watch: seconds of quiet per update"
    )
    q.add_argument("--no-progress", action="store_true", help="no progress bars")
    q.set_defaults(func=run_index)

    q = rsub.add_parser("search", help="search an index")
    q.add_argument("query")
    common(q)
    q.add_argument("-k", type=int, default=5)
    q.add_argument("--mode", choices=["vector", "keyword", "hybrid"], default=None)
    q.add_argument("--filters", default=None, help='JSON, e.g. {"kind": "markdown"}')
    q.add_argument("--threshold", type=float, default=None)
    q.add_argument("--json", action="store_true", help="print hits as JSON")
    q.set_defaults(func=run_search)

    q = rsub.add_parser("eval", help="evaluate search configs on a BEIR-format dataset")
    q.add_argument("dataset", help="folder with corpus.jsonl, queries.jsonl, qrels/")
    common(q)
    q.add_argument("--split", default="test")
    q.add_argument(
        "--configs",
        default=None,
        help="comma-separated: vector,bm25,hybrid-rrf,hybrid,hybrid+keywords,default",
    )
    q.add_argument("--rerank", default=None, help="a local cross-encoder path to add")
    q.add_argument("-k", default="1,5,10", help="cut-offs, e.g. 1,5,10")
    q.add_argument(
        "--max-queries",
        type=int,
        default=None,
        help="evaluate on the first N judged queries (with their documents)",
    )
    q.add_argument(
        "--distractors",
        type=int,
        default=200,
        help="with --max-queries: other corpus documents to include",
    )
    q.add_argument("--no-keywords", action="store_true", help="skip KeyBERT keywords")
    q.add_argument("--mlflow", default=None, help="MLflow tracking URI to log results to")
    q.add_argument("--no-progress", action="store_true", help="no progress bars")
    q.set_defaults(func=run_eval, chunk_size=None, overlap=40)
