"""`Index`: an incremental hybrid index over a folder or a list of documents, stored as
one LanceDB table per index in the project directory.

Incremental: a checkpoint keeps each source's content hash; an update chunks, filters,
embeds and writes only added and changed sources and deletes removed ones. New texts are
embedded a window at a time in one length-sorted pass (cached as they finish); each group
of sources is recorded as pending, has its old rows deleted and its new rows added, and
only then is recorded in the checkpoint, so a run interrupted anywhere resumes without
duplicate chunks."""

from __future__ import annotations

import fnmatch
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from forgekit.core.display import LiveDisplay
from forgekit.rag.audit import AuditLog
from forgekit.rag.chunking import (
    Chunk,
    ChunkingConfig,
    chunk_document,
    chunk_file,
    content_hash,
)
from forgekit.rag.embedding import Embedder, EmbeddingCache, embed_missing, make_embedder
from forgekit.rag.keywords import KeywordConfig
from forgekit.rag.pii import PIIConfig, PIIFilter
from forgekit.rag.search import SearchConfig, SearchResults, run_search

if TYPE_CHECKING:
    import numpy as np

CHECKPOINT_VERSION = 1
DEFAULT_EXCLUDE = [
    ".git/*",
    "*/.git/*",
    "*/__pycache__/*",
    "__pycache__/*",
    ".forgekit/*",
    "*/.forgekit/*",
    ".venv/*",
    "*/.venv/*",
    "node_modules/*",
    "*.lance/*",
    "*.pyc",
    "*.png",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.zip",
    "*.gz",
    "*.whl",
    "*.so",
    "*.bin",
    "*.parquet",
    "*.sqlite",
    "*.db",
    "*.ipynb_checkpoints/*",
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
    max_file_bytes: int = Field(2_000_000, ge=1)
    batch_sources: int = Field(256, ge=1)
    window_chunks: int = Field(4096, ge=1)
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


class Document(BaseModel):
    """An in-memory document to index."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    title: str = ""
    kind: str = "document"
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def hash(self) -> str:
        from forgekit.core.hashing import stable_hash

        return stable_hash([self.title, self.text, self.kind, self.metadata], length=32)


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


@contextmanager
def _no_namespace_datasets() -> Iterator[None]:
    """Hide a `datasets` namespace package (a project's `datasets/` folder imported from
    the cwd) from LanceDB, which takes any `datasets` in sys.modules for Hugging Face's
    and fails to import `Dataset` from it."""
    mod = sys.modules.get("datasets")
    bogus = mod is not None and getattr(mod, "__file__", None) is None
    if bogus:
        del sys.modules["datasets"]
    try:
        yield
    finally:
        if bogus:
            sys.modules.setdefault("datasets", mod)


def _default_project_dir() -> Path:
    from forgekit.core.config import project_root

    return project_root()


def _as_documents(docs: Iterable[Any]) -> list[Document]:
    out = []
    for i, d in enumerate(docs):
        if isinstance(d, Document):
            out.append(d)
        elif isinstance(d, str):
            out.append(Document(id=f"doc-{i}", text=d))
        elif isinstance(d, dict):
            d = dict(d)
            if "_id" in d and "id" not in d:
                d["id"] = d.pop("_id")
            try:
                out.append(
                    Document(
                        **{
                            k: v
                            for k, v in d.items()
                            if k in Document.model_fields and k != "metadata"
                        },
                        metadata={
                            **d.get("metadata", {}),
                            **{k: v for k, v in d.items() if k not in Document.model_fields},
                        },
                    )
                )
            except Exception as e:
                from forgekit.core.errors import DataError

                raise DataError(f"document {i} is not valid: {e}") from e
        else:
            from forgekit.core.errors import DataError

            raise DataError(
                f"document {i} is a {type(d).__name__}; expected a str, a dict "
                "with id/text (title, metadata) or a Document"
            )
    ids = Counter(d.id for d in out)
    dup = [i for i, n in ids.items() if n > 1]
    if dup:
        from forgekit.core.errors import DataError

        raise DataError(
            "document ids must be unique", problems=[f"duplicate id {i!r}" for i in dup[:20]]
        )
    return out


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
        self.project_dir = Path(project_dir) if project_dir else _default_project_dir()
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
        self._keywords: Any = None
        self.root: Path | None = None
        self.documents: list[Document] | None = None
        self.last_update: UpdateReport | None = None
        if isinstance(source, str | Path):
            self.root = Path(source).resolve()
            if not self.root.exists():
                from forgekit.core.errors import ConfigError

                raise ConfigError(f"{source}: no such file or folder to index", file=source)
        elif source is not None:
            self.documents = _as_documents(source)
        if build and source is not None:
            self.update()

    def __component_config__(self) -> str:
        """A config names an index (its documents and vectors live in the project)."""
        return self.name

    # -- storage ---------------------------------------------------------------------

    @property
    def db(self) -> Any:
        if self._db is None:
            with _no_namespace_datasets():  # lancedb looks at `datasets` on import
                import lancedb

            self._db = lancedb.connect(str(self.dir / "lancedb"))
        return self._db

    @property
    def table(self) -> Any:
        if self._table is None:
            if self.name in self.db.table_names():
                self._table = self.db.open_table(self.name)
        return self._table

    def _schema(self) -> Any:
        import pyarrow as pa

        return pa.schema(
            [
                ("id", pa.string()),
                ("source", pa.string()),
                ("doc_id", pa.string()),
                ("chunk_index", pa.int32()),
                ("text", pa.string()),
                ("title", pa.string()),
                ("kind", pa.string()),
                ("section", pa.string()),
                ("start_line", pa.int32()),
                ("end_line", pa.int32()),
                ("start_char", pa.int32()),
                ("end_char", pa.int32()),
                ("metadata", pa.string()),
                ("hash", pa.string()),
                ("keywords", pa.list_(pa.string())),
                ("keywords_text", pa.string()),
                ("fts", pa.string()),
                ("vector", pa.list_(pa.float32(), self.embedder.dim)),
            ]
        )

    def _ensure_table(self) -> Any:
        if self.table is None:
            self._table = self.db.create_table(self.name, schema=self._schema())
        return self._table

    def _checkpoint_path(self) -> Path:
        return self.meta_dir / "checkpoint.json"

    def _load_checkpoint(self) -> dict[str, Any]:
        p = self._checkpoint_path()
        if p.exists():
            try:
                return json.loads(p.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                pass  # torn write cannot happen (atomic replace), but be safe: rebuild
        return {
            "version": CHECKPOINT_VERSION,
            "fingerprint": None,
            "sources": {},
            "fts_dirty": False,
        }

    def _save_checkpoint(self, ck: dict[str, Any]) -> None:
        p = self._checkpoint_path()
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(ck, sort_keys=True), encoding="utf-8")
        os.replace(tmp, p)

    # -- sources ---------------------------------------------------------------------

    def _wanted(self, rel: str) -> bool:
        if getattr(self, "_globs", None) is None:
            import re

            def one(pats: list[str]) -> re.Pattern[str]:
                return re.compile("|".join(fnmatch.translate(p) for p in pats) or "(?!)")

            self._globs = (one(self.config.include), one(self.config.exclude))
        inc, exc = self._globs
        if not (inc.match(rel) or inc.match(rel.rsplit("/", 1)[-1])):
            return False
        return not exc.match(rel)

    def _scan(self, skipped: list[str]) -> dict[str, str]:
        """source -> content hash of every source to index now."""
        if self.documents is not None:
            return {d.id: d.hash for d in self.documents}
        assert self.root is not None
        if self.root.is_file():
            files = [self.root]
            base = self.root.parent
        else:
            base = self.root
            files = sorted(p for p in self.root.rglob("*") if p.is_file())
        out: dict[str, str] = {}
        for p in files:
            rel = p.relative_to(base).as_posix()
            if not self._wanted(rel):
                continue
            size = p.stat().st_size
            if size > self.config.max_file_bytes:
                skipped.append(rel)
                continue
            data = p.read_bytes()
            if b"\x00" in data[:4096] and p.suffix.lower() != ".pdf":
                continue  # binary
            out[rel] = content_hash(data)
        return out

    def _chunks_for(self, source: str) -> list[Chunk]:
        cfg = self.config.chunking
        if self.documents is not None:
            if getattr(self, "_doc_map", None) is None or len(self._doc_map) != len(self.documents):
                self._doc_map = {x.id: x for x in self.documents}
            d = self._doc_map[source]
            return chunk_document(
                d.text, doc_id=d.id, title=d.title, kind=d.kind, metadata=d.metadata, cfg=cfg
            )
        assert self.root is not None
        base = self.root.parent if self.root.is_file() else self.root
        return chunk_file(base / source, source=source, cfg=cfg)

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
            self.root, self.documents = None, _as_documents(source)
        self._doc_map: dict[str, Document] | None = None
        if self.root is None and self.documents is None:
            from forgekit.core.errors import ConfigError

            raise ConfigError(f"index {self.name!r} has no source: pass a folder or documents")
        t0 = time.perf_counter()
        rep = UpdateReport()
        ck = self._load_checkpoint()
        fp = self.config.fingerprint(self.embedder.model_id)
        if ck.get("fingerprint") != fp:
            if self.table is not None:  # the stored chunks were made another way: redo all
                self.db.drop_table(self.name)
                self._table = None
            ck = {
                "version": CHECKPOINT_VERSION,
                "fingerprint": fp,
                "sources": {},
                "fts_dirty": False,
            }
            self._save_checkpoint(ck)
            self._save_pending([])
        current = self._scan(rep.skipped)
        old: dict[str, str] = dict(ck["sources"])
        # sources whose rows may be in the table: the checkpointed ones and those of a
        # group an interrupted run was writing (rows added, checkpoint not yet saved)
        pending = self._load_pending() if self.table is not None else set()
        removed = sorted(set(old) - set(current))
        stray = sorted(pending - set(old) - set(current))
        # a pending source was being rewritten: its rows may not match its checkpoint
        changed = [s for s in current if old.get(s) != current[s] or s in pending]
        rep.unchanged = len(current) - len(changed)
        pii_hits: Counter[str] = Counter()
        if (removed or changed or stray) and not ck.get("fts_dirty"):
            ck["fts_dirty"] = True  # persisted before the table changes
            self._save_checkpoint(ck)
        if stray:  # rows of an interrupted group whose sources are gone since
            self._delete_sources(stray)
        if removed and self.table is not None:
            rep.chunks_removed += self._delete_sources(removed, count=True)
            for s in removed:
                ck["sources"].pop(s, None)
            self._save_checkpoint(ck)
            rep.removed = removed
            self.audit.append(
                "remove", index=self.name, sources=removed, chunks_removed=rep.chunks_removed
            )
        has_rows = set(old) | pending
        carry = pending & set(changed)  # stay pending until rewritten
        for window in self._windows(changed):
            for group, written, embedded, hits in self._write_window(window, has_rows, carry):
                new = [s for s in group if s not in old]
                upd = [s for s in group if s in old]
                for s in group:
                    ck["sources"][s] = current[s]
                self._save_checkpoint(ck)
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
            self._save_pending([])
        if ck.get("fts_dirty") and self.table is not None:
            self._build_fts()
            ck["fts_dirty"] = False
            self._save_checkpoint(ck)
        rep.pii_hits = dict(pii_hits)
        rep.seconds = time.perf_counter() - t0
        self.last_update = rep
        return rep

    def _pending_path(self) -> Path:
        return self.meta_dir / "pending.json"

    def _load_pending(self) -> set[str]:
        p = self._pending_path()
        if not p.exists():
            return set()
        try:
            return set(json.loads(p.read_text(encoding="utf-8")))
        except json.JSONDecodeError:  # cannot happen (atomic replace); be safe
            return set()

    def _save_pending(self, sources: list[str]) -> None:
        p = self._pending_path()
        if not sources and not p.exists():
            return
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(sources)), encoding="utf-8")
        os.replace(tmp, p)

    def _windows(self, changed: list[str]) -> Iterator[list[tuple[str, list[Chunk], Counter[str]]]]:
        """Changed sources, chunked and PII-filtered, in windows of about
        `window_chunks` chunks (a source is never split)."""
        window: list[tuple[str, list[Chunk], Counter[str]]] = []
        n = 0
        for s in changed:
            hits: Counter[str] = Counter()
            chunks = [self._filter(c, hits) for c in self._chunks_for(s)]
            window.append((s, chunks, hits))
            n += len(chunks)
            if n >= self.config.window_chunks:
                yield window
                window, n = [], 0
        if window:
            yield window

    def _delete_sources(self, sources: Iterable[str], *, count: bool = False) -> int:
        """Delete the rows of `sources`; with `count`, return how many there were."""
        tbl = self.table
        if tbl is None:
            return 0
        sources = list(sources)
        n = 0
        for i in range(0, len(sources), 200):
            part = sources[i : i + 200]
            cond = "source IN (" + ", ".join("'" + s.replace("'", "''") + "'" for s in part) + ")"
            if count:
                before = tbl.count_rows(cond)
                if before:
                    tbl.delete(cond)
                    n += before
            else:
                tbl.delete(cond)
        return n

    def _filter(self, c: Chunk, hits: Counter[str]) -> Chunk:
        text, h1 = self.pii.apply(c.text)
        title, h2 = self.pii.apply(c.title)
        hits.update(h1)
        hits.update(h2)
        return c.model_copy(update={"text": text, "title": title}) if (h1 or h2) else c

    def _write_window(
        self,
        window: list[tuple[str, list[Chunk], Counter[str]]],
        has_rows: set[str],
        carry: set[str],
    ) -> Iterator[tuple[list[str], int, int, Counter[str]]]:
        """Embed a window's chunks in one length-sorted pass, then write them in groups
        of `batch_sources` sources. Yields (group sources, chunks written, chunks
        embedded, PII hits) after each group's rows are in the table."""
        import numpy as np

        chunks = [c for _, cs, _ in window for c in cs]
        texts = [c.embed_text for c in chunks]
        hashes = [content_hash(t) for t in texts]
        vec_by_hash, fresh_order = embed_missing(self.embedder, texts, hashes, self.cache)
        fresh = set(fresh_order)
        if chunks:
            vecs = np.stack([vec_by_hash[h] for h in hashes]).astype(np.float32, copy=False)
        else:
            vecs = np.zeros((0, self.embedder.dim), dtype=np.float32)
        kws = self._extract_keywords(texts, hashes, vecs) if chunks else []
        tbl = self._ensure_table()
        bs = self.config.batch_sources
        start = 0
        for g in range(0, len(window), bs):
            part = window[g : g + bs]
            group = [s for s, _, _ in part]
            n = sum(len(cs) for _, cs, _ in part)
            hits: Counter[str] = Counter()
            for _, _, h in part:
                hits.update(h)
            sl = slice(start, start + n)
            start += n
            embedded = 0
            for h in hashes[sl]:
                if h in fresh:
                    fresh.discard(h)  # count each new vector once
                    embedded += 1
            self._save_pending([*group, *carry])
            old_rows = [s for s in group if s in has_rows]
            if old_rows:
                self._delete_sources(old_rows)
            if n:
                with _no_namespace_datasets():
                    tbl.add(self._arrow_rows(chunks[sl], texts[sl], hashes[sl], kws[sl], vecs[sl]))
            yield group, n, embedded, hits

    def _arrow_rows(
        self,
        chunks: list[Chunk],
        texts: list[str],
        hashes: list[str],
        kws: list[list[str]],
        vecs: np.ndarray,
    ) -> Any:
        import numpy as np
        import pyarrow as pa

        rows = {
            "id": [f"{c.source}#{c.chunk_index}" for c in chunks],
            "source": [c.source for c in chunks],
            "doc_id": [c.doc_id for c in chunks],
            "chunk_index": [c.chunk_index for c in chunks],
            "text": [c.text for c in chunks],
            "title": [c.title for c in chunks],
            "kind": [c.kind for c in chunks],
            "section": [c.section for c in chunks],
            "start_line": [c.start_line for c in chunks],
            "end_line": [c.end_line for c in chunks],
            "start_char": [c.start_char for c in chunks],
            "end_char": [c.end_char for c in chunks],
            "metadata": [json.dumps(c.metadata, sort_keys=True, default=str) for c in chunks],
            "hash": hashes,
            "keywords": kws,
            "keywords_text": [" ".join(k) for k in kws],
            "fts": texts,  # title + text, as embedded
        }
        schema = self._schema()
        arrays = [pa.array(rows[f.name], type=f.type) for f in schema if f.name != "vector"]
        flat = pa.array(np.ascontiguousarray(vecs).reshape(-1), type=pa.float32())
        arrays.append(pa.FixedSizeListArray.from_arrays(flat, self.embedder.dim))
        return pa.Table.from_arrays(arrays, schema=schema)

    def _extract_keywords(
        self, texts: list[str], hashes: list[str], vecs: np.ndarray
    ) -> list[list[str]]:
        from forgekit.rag.embedding import SentenceTransformerEmbedder
        from forgekit.rag.keywords import KeywordExtractor

        if not self.config.keywords.enabled:
            return [[] for _ in texts]
        if not isinstance(self.embedder, SentenceTransformerEmbedder):
            # KeyBERT needs a local model; use the default one beside a remote embedder
            kw_embedder = SentenceTransformerEmbedder()
            vecs = None
        else:
            kw_embedder = self.embedder
        if self._keywords is None:
            self._keywords = KeywordExtractor(kw_embedder, self.config.keywords)
        return self._keywords.extract(texts, hashes=hashes, cache=self.cache, vectors=vecs)

    def _build_fts(self) -> None:
        import lancedb

        tbl = self.table
        tbl.create_index("fts", config=lancedb.index.FTS(), replace=True)
        if self.config.keywords.enabled:
            tbl.create_index("keywords_text", config=lancedb.index.FTS(), replace=True)

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
        return dict(self._load_checkpoint()["sources"])

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
