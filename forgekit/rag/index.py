"""`Index`: an incremental hybrid index over a folder or a list of documents, stored as
one LanceDB table per index in the project directory.

Incremental: a checkpoint keeps each source's content hash; an update chunks, filters,
embeds and writes only added and changed sources and deletes removed ones. New texts are
embedded a window at a time in one length-sorted pass (cached as they finish); each group
of sources is recorded as pending, has its old rows deleted and its new rows added, and
only then is recorded in the checkpoint, so a run interrupted anywhere resumes without
duplicate chunks.

The parts: `sources` (what is indexed), `checkpoint` (what is already in), `writer`
(changed sources into rows), `table` (the LanceDB table), `search` (queries)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from forgekit.core.display import LiveDisplay
from forgekit.rag.audit import AuditLog
from forgekit.rag.checkpoint import CHECKPOINT_VERSION, IndexCheckpoint
from forgekit.rag.chunking import ChunkingConfig
from forgekit.rag.documents import DEFAULT_EXCLUDE, Document, IndexSources, as_documents
from forgekit.rag.embedding import Embedder, EmbeddingCache, make_embedder
from forgekit.rag.keywords import KeywordConfig
from forgekit.rag.pii import PIIConfig, PIIFilter
from forgekit.rag.search import SearchConfig, SearchResults, run_search
from forgekit.rag.table import build_fts, chunk_schema, connect, delete_sources, has_table
from forgekit.rag.writer import IndexWriter

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "CHECKPOINT_VERSION",
    "DEFAULT_EXCLUDE",
    "Document",
    "Index",
    "IndexConfig",
    "UpdateReport",
]


class IndexConfig(BaseModel):
    """Everything that decides what an index stores (a change re-indexes everything).

    Attributes:
        embedder: "default" (all-MiniLM-L6-v2, offline), a sentence-transformers name or
            path, or "litellm:<model>" for an embedding model reached through litellm.
        chunking: chunk sizes.
        keywords: KeyBERT keywords per chunk.
        pii: the PII filter applied before anything is stored.
        include: glob patterns of files to index (relative paths).
        exclude: glob patterns of files to skip.
        max_file_bytes: larger files are skipped (and logged).
        batch_sources: sources per table write (and per checkpoint).
        window_chunks: chunks prepared and embedded together before they are written
            (one length-sorted pass: less padding; bounds memory).
        search: default search settings.
    """

    model_config = ConfigDict(extra="forbid")

    embedder: str = "default"
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    keywords: KeywordConfig = Field(default_factory=KeywordConfig)
    pii: PIIConfig = Field(default_factory=PIIConfig)
    include: list[str] = Field(default_factory=lambda: ["*"])
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    max_file_bytes: int = Field(default=2_000_000, ge=1)
    batch_sources: int = Field(default=256, ge=1)
    window_chunks: int = Field(default=4096, ge=1)
    search: SearchConfig = Field(default_factory=lambda: SearchConfig(keywords_weight=0.0))

    def fingerprint(self, model_id: str) -> str:
        from forgekit.core.hashing import stable_hash

        return stable_hash(
            {
                "model": model_id,
                "chunking": self.chunking,
                "keywords": self.keywords,
                "pii": self.pii,
            }
        )


class UpdateReport(BaseModel):
    """What one update changed."""

    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = Field(default_factory=list)
    chunks_written: int = 0
    chunks_removed: int = 0
    embedded: int = 0
    pii_hits: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


class Index(LiveDisplay):
    """An incremental hybrid index (LanceDB table + BM25 full-text index).

    Args:
        source: a folder (or one file) to index, or a list of documents (str, dicts with
            `id`/`_id`, `text`, optional `title` and `metadata`, or `Document`s). None opens
            an existing index by name.
        name: the index name (one LanceDB table per name).
        project_dir: where `.forgekit/rag/` lives (default: the project, `project_root()`).
        config: an IndexConfig (or a dict); keyword arguments override its fields.
        embedder: an Embedder object (overrides config.embedder).
        cache_path: the embedding cache (default `<project>/.forgekit/rag/embeddings.sqlite`,
            shared by the project's indexes).
        build: index `source` now (an incremental update).

    Example:
        >>> idx = Index("docs/", name="docs")            # doctest: +SKIP
        >>> idx.search("how do I replay a run?", k=3)    # doctest: +SKIP
    """

    def __init__(
        self,
        source: str | Path | Sequence[Any] | None = None,
        *,
        name: str = "default",
        project_dir: str | Path | None = None,
        config: IndexConfig | dict[str, Any] | None = None,
        embedder: Embedder | None = None,
        cache_path: str | Path | None = None,
        build: bool = True,
        **overrides: Any,
    ) -> None:
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            from forgekit.core.errors import ConfigError

            raise ConfigError(f"index name {name!r} must be letters, digits, - and _", key="name")
        if isinstance(config, dict):
            config = IndexConfig(**config)
        config = config or IndexConfig()
        if overrides:
            config = IndexConfig(**{**config.model_dump(), **overrides})
        self.config = config
        self.name = name
        if project_dir is None:
            from forgekit.core.config import project_root

            project_dir = project_root()
        self.project_dir = Path(project_dir)
        self.dir = self.project_dir / ".forgekit" / "rag"
        self.meta_dir = self.dir / "indexes" / name
        self.meta_dir.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder or make_embedder(config.embedder)
        self.cache = EmbeddingCache(cache_path or self.dir / "embeddings.sqlite")
        self.audit = AuditLog(self.meta_dir / "audit.jsonl")
        self.pii = PIIFilter(config.pii)
        self._db: Any = None
        self._table: Any = None
        self._reranker: Any = None
        self._writer_obj: IndexWriter | None = None
        self.checkpoint = IndexCheckpoint(self.meta_dir)
        self.root: Path | None = None
        self.documents: list[Document] | None = None
        self.last_update: UpdateReport | None = None
        if isinstance(source, str | Path):
            self.root = Path(source).resolve()
            if not self.root.exists():
                from forgekit.core.errors import ConfigError

                raise ConfigError(f"{source}: no such file or folder to index", file=source)
        elif source is not None:
            self.documents = as_documents(source)
        if build and source is not None:
            self.update()

    def __component_config__(self) -> str:
        """A config names an index (its documents and vectors live in the project)."""
        return self.name

    # -- storage ---------------------------------------------------------------------

    @property
    def db(self) -> Any:
        if self._db is None:
            self._db = connect(self.dir / "lancedb")
        return self._db

    @property
    def table(self) -> Any:
        if self._table is None:
            if has_table(self.db, self.name):
                self._table = self.db.open_table(self.name)
        return self._table

    def _schema(self) -> Any:
        return chunk_schema(self.embedder.dim)

    def _ensure_table(self) -> Any:
        if self.table is None:
            self._table = self.db.create_table(self.name, schema=self._schema())
        return self._table

    def _build_fts(self) -> None:
        build_fts(self.table, keywords=self.config.keywords.enabled)

    def _sources(self) -> IndexSources:
        """The index's current source (folder or documents) under its config."""
        cfg = self.config
        return IndexSources(
            root=self.root,
            documents=self.documents,
            include=cfg.include,
            exclude=cfg.exclude,
            max_file_bytes=cfg.max_file_bytes,
            chunking=cfg.chunking,
        )

    def _writer(self) -> IndexWriter:
        if self._writer_obj is None:
            cfg = self.config
            self._writer_obj = IndexWriter(
                embedder=self.embedder,
                cache=self.cache,
                pii=self.pii,
                keywords=cfg.keywords,
                checkpoint=self.checkpoint,
                window_chunks=cfg.window_chunks,
                batch_sources=cfg.batch_sources,
            )
        return self._writer_obj

    # -- update ----------------------------------------------------------------------

    def update(self, source: str | Path | Sequence[Any] | None = None) -> UpdateReport:
        """Bring the index up to date with its source: only added, changed and removed
        sources are touched. Returns what changed (also appended to the audit log).

        Changed sources are prepared in windows of `window_chunks` chunks: the window's
        new texts are embedded together, sorted by length (cached part by part), then
        written in groups of `batch_sources` sources, each group checkpointed after its
        rows are in the table. Before a group is written its sources are recorded in
        `pending.json`, so a run interrupted anywhere resumes without duplicate chunks
        and only sources that may have rows are ever deleted."""
        if isinstance(source, str | Path):
            self.root, self.documents = Path(source).resolve(), None
        elif source is not None:
            self.root, self.documents = None, as_documents(source)
        if self.root is None and self.documents is None:
            from forgekit.core.errors import ConfigError

            raise ConfigError(f"index {self.name!r} has no source: pass a folder or documents")
        t0 = time.perf_counter()
        rep = UpdateReport()
        ck = self.checkpoint.load()
        fp = self.config.fingerprint(self.embedder.model_id)
        if ck.get("fingerprint") != fp:
            if self.table is not None:  # the stored chunks were made another way: redo all
                self.db.drop_table(self.name)
                self._table = None
            ck = IndexCheckpoint.empty(fp)
            self.checkpoint.save(ck)
            self.checkpoint.save_pending([])
        sources = self._sources()
        current = sources.scan(rep.skipped)
        old: dict[str, str] = dict(ck["sources"])
        # sources whose rows may be in the table: the checkpointed ones and those of a
        # group an interrupted run was writing (rows added, checkpoint not yet saved)
        pending = self.checkpoint.load_pending() if self.table is not None else set()
        removed = sorted(set(old) - set(current))
        stray = sorted(pending - set(old) - set(current))
        # a pending source was being rewritten: its rows may not match its checkpoint
        changed = [s for s in current if old.get(s) != current[s] or s in pending]
        rep.unchanged = len(current) - len(changed)
        pii_hits: Counter[str] = Counter()
        if (removed or changed or stray) and not ck.get("fts_dirty"):
            ck["fts_dirty"] = True  # persisted before the table changes
            self.checkpoint.save(ck)
        if stray:  # rows of an interrupted group whose sources are gone since
            delete_sources(self.table, stray)
        if removed and self.table is not None:
            rep.chunks_removed += delete_sources(self.table, removed, count=True)
            for s in removed:
                ck["sources"].pop(s, None)
            self.checkpoint.save(ck)
            rep.removed = removed
            self.audit.append(
                "remove", index=self.name, sources=removed, chunks_removed=rep.chunks_removed
            )
        has_rows = set(old) | pending
        carry = pending & set(changed)  # stay pending until rewritten
        writer = self._writer()
        for window in writer.windows(changed, sources.chunks):
            for group, written, embedded, hits in writer.write(
                self._ensure_table, window, has_rows, carry
            ):
                new = [s for s in group if s not in old]
                upd = [s for s in group if s in old]
                for s in group:
                    ck["sources"][s] = current[s]
                self.checkpoint.save(ck)
                carry.difference_update(group)
                rep.added += new
                rep.updated += upd
                rep.chunks_written += written
                rep.embedded += embedded
                pii_hits.update(hits)
                self.audit.append(
                    "index",
                    index=self.name,
                    added=new,
                    updated=upd,
                    chunks=written,
                    embedded=embedded,
                    pii_hits=dict(hits),
                )
        if pending or changed:
            self.checkpoint.save_pending([])
        if ck.get("fts_dirty") and self.table is not None:
            self._build_fts()
            ck["fts_dirty"] = False
            self.checkpoint.save(ck)
        rep.pii_hits = dict(pii_hits)
        rep.seconds = time.perf_counter() - t0
        self.last_update = rep
        return rep

    def watch(
        self,
        debounce_s: float = 1.0,
        *,
        background: bool = False,
        on_update: Any = None,
        on_error: Any = None,
    ) -> Any:
        """Keep this folder's index current as files change (see `forgekit.rag.watch`).

        Catches up first, then runs `update()` after each debounced burst of changes;
        errors are reported and the watch goes on. Blocks until Ctrl-C, or with
        `background=True` returns the running `IndexWatcher` (call `.stop()`).
        """
        from forgekit.rag.watch import IndexWatcher

        w = IndexWatcher(self, debounce_s=debounce_s, on_update=on_update, on_error=on_error)
        if background:
            return w.start()
        try:
            w.run()
        except KeyboardInterrupt:
            w.stop_event.set()
        return w

    def optimize(self, *, ann: bool | None = None) -> None:
        """Compact the table; with `ann` (default: when over 50,000 chunks) build an
        IVF-PQ vector index so large indexes answer in milliseconds."""
        tbl = self.table
        if tbl is None:
            return
        tbl.optimize()
        n = tbl.count_rows()
        if ann or (ann is None and n >= 50_000):
            from lancedb.index import IvfPq

            tbl.create_index(
                "vector",
                config=IvfPq(distance_type="cosine", num_sub_vectors=self.embedder.dim // 8),
                replace=True,
            )

    # -- read ------------------------------------------------------------------------

    def __len__(self) -> int:
        return 0 if self.table is None else self.table.count_rows()

    def sources(self) -> dict[str, str]:
        """Indexed sources and their content hashes (from the checkpoint)."""
        return dict(self.checkpoint.load()["sources"])

    def chunks(self) -> list[dict[str, Any]]:
        """Every stored chunk (without vectors), ordered by source and position."""
        if self.table is None:
            return []
        cols = [f.name for f in self._schema() if f.name != "vector"]
        rows = self.table.to_arrow().select(cols).to_pylist()
        return sorted(rows, key=lambda r: (r["source"], r["chunk_index"]))

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(list(queries))

    def _get_reranker(self, name: str) -> Any:
        if self._reranker is None or self._reranker[0] != name:
            from forgekit.rag.rerank import load_cross_encoder

            self._reranker = (name, load_cross_encoder(name))
        return self._reranker[1]

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        mode: str | None = None,
        filters: dict[str, Any] | None = None,
        where: str | None = None,
        threshold: float | None = None,
        vector: np.ndarray | None = None,
        config: SearchConfig | None = None,
        **options: Any,
    ) -> SearchResults:
        """Search the index.

        Args:
            query: the question or keywords.
            k: results to return (default from the config).
            mode: "vector", "keyword" or "hybrid".
            filters: column filters (source, doc_id, kind, section, title, ...) or keys of
                the documents' metadata; a list value means any of.
            where: a raw SQL predicate on the table's columns.
            threshold: minimum final score.
            vector: the query's embedding, when already computed.
            config: a SearchConfig; `options` override its fields (e.g. vector_weight=2).

        Returns:
            SearchResults, best first; each hit has its component scores and source span.
        """
        cfg = config or self.config.search
        upd: dict[str, Any] = dict(options)
        if k is not None:
            upd["k"] = k
        if mode is not None:
            upd["mode"] = mode
        if threshold is not None:
            upd["threshold"] = threshold
        if upd:
            cfg = SearchConfig(**{**cfg.model_dump(), **upd})
        if self.table is None or self.table.count_rows() == 0:
            return SearchResults([], query=query, mode=cfg.mode)
        if vector is None and (cfg.mode != "keyword" or cfg.expand_query):
            vector = self.embed_queries([query])[0]
        reranker = self._get_reranker(cfg.rerank) if cfg.rerank else None
        return run_search(
            self.table,
            query,
            vector,
            cfg,
            filters=filters,
            where=where,
            reranker=reranker,
            has_keywords=self.config.keywords.enabled,
        )

    def __repr__(self) -> str:
        src = self.root if self.root is not None else f"{len(self.documents or [])} documents"
        return f"Index(name={self.name!r}, source={src!s}, chunks={len(self)})"

    def _repr_html_(self) -> str:
        import html

        return (
            f"<div><b>Index</b> <code>{html.escape(self.name)}</code>: {len(self)} chunks "
            f"from {len(self.sources())} sources; embedder "
            f"<code>{html.escape(self.embedder.model_id)}</code></div>"
        )
