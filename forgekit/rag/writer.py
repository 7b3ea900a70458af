"""Writing an index's changed sources: chunk and PII-filter them a window at a time, embed
each window's new texts in one length-sorted pass, add KeyBERT keywords, and replace the
sources' rows a group at a time, each group recorded as pending before its rows change."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from forgekit.rag.chunking import Chunk, content_hash
from forgekit.rag.embedding import Embedder, EmbeddingCache, embed_missing
from forgekit.rag.table import arrow_rows, delete_sources, no_namespace_datasets

if TYPE_CHECKING:
    import numpy as np

    from forgekit.rag.checkpoint import IndexCheckpoint
    from forgekit.rag.keywords import KeywordConfig
    from forgekit.rag.pii import PIIFilter

Window = list[tuple[str, list[Chunk], Counter[str]]]


class IndexWriter:
    """Writes chunks into an index's table (one per index; keeps the keyword model).

    Args:
        embedder, cache: the index's embedder and embedding cache.
        pii: the PII filter applied to every chunk's text and title.
        keywords: the keyword settings.
        checkpoint: where the group being written is recorded as pending.
        window_chunks: chunks prepared and embedded together.
        batch_sources: sources per table write.
    """

    def __init__(
        self,
        *,
        embedder: Embedder,
        cache: EmbeddingCache,
        pii: PIIFilter,
        keywords: KeywordConfig,
        checkpoint: IndexCheckpoint,
        window_chunks: int,
        batch_sources: int,
    ) -> None:
        self.embedder = embedder
        self.cache = cache
        self.pii = pii
        self.keywords = keywords
        self.checkpoint = checkpoint
        self.window_chunks = window_chunks
        self.batch_sources = batch_sources
        self._extractor: Any = None

    def windows(
        self, changed: list[str], chunks_of: Callable[[str], list[Chunk]]
    ) -> Iterator[Window]:
        """Changed sources, chunked and PII-filtered, in windows of about
        `window_chunks` chunks (a source is never split)."""
        window: Window = []
        n = 0
        for s in changed:
            hits: Counter[str] = Counter()
            chunks = [self._filter(c, hits) for c in chunks_of(s)]
            window.append((s, chunks, hits))
            n += len(chunks)
            if n >= self.window_chunks:
                yield window
                window, n = [], 0
        if window:
            yield window

    def _filter(self, c: Chunk, hits: Counter[str]) -> Chunk:
        text, h1 = self.pii.apply(c.text)
        title, h2 = self.pii.apply(c.title)
        hits.update(h1)
        hits.update(h2)
        return c.model_copy(update={"text": text, "title": title}) if (h1 or h2) else c

    def write(
        self,
        table: Callable[[], Any],
        window: Window,
        has_rows: set[str],
        carry: set[str],
    ) -> Iterator[tuple[list[str], int, int, Counter[str]]]:
        """Embed a window's chunks in one length-sorted pass, then write them into the
        table (`table()` opens or creates it) in groups of `batch_sources` sources. Yields (group sources, chunks written,
        chunks embedded, PII hits) after each group's rows are in the table.

        `has_rows`: sources that may have rows already (deleted first); `carry`: sources
        that stay pending until they are rewritten."""
        import numpy as np

        chunks = [c for _, cs, _ in window for c in cs]
        texts = [c.embed_text for c in chunks]
        hashes = [content_hash(t) for t in texts]
        vec_by_hash, fresh_order = embed_missing(self.embedder, texts, hashes, self.cache)
        fresh = set(fresh_order)
        dim = self.embedder.dim
        if chunks:
            vecs = np.stack([vec_by_hash[h] for h in hashes]).astype(np.float32, copy=False)
        else:
            vecs = np.zeros((0, dim), dtype=np.float32)
        kws = self._keywords(texts, hashes, vecs) if chunks else []
        tbl = table()
        bs = self.batch_sources
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
            for digest in hashes[sl]:
                if digest in fresh:
                    fresh.discard(digest)  # count each new vector once
                    embedded += 1
            self.checkpoint.save_pending([*group, *carry])
            old_rows = [s for s in group if s in has_rows]
            if old_rows:
                delete_sources(tbl, old_rows)
            if n:
                with no_namespace_datasets():
                    tbl.add(arrow_rows(chunks[sl], texts[sl], hashes[sl], kws[sl], vecs[sl], dim))
            yield group, n, embedded, hits

    def _keywords(
        self, texts: list[str], hashes: list[str], vecs: np.ndarray | None
    ) -> list[list[str]]:
        from forgekit.rag.embedding import SentenceTransformerEmbedder
        from forgekit.rag.keywords import KeywordExtractor

        if not self.keywords.enabled:
            return [[] for _ in texts]
        if not isinstance(self.embedder, SentenceTransformerEmbedder):
            # KeyBERT needs a local model; use the default one beside a remote embedder
            kw_embedder = SentenceTransformerEmbedder()
            vecs = None
        else:
            kw_embedder = self.embedder
        if self._extractor is None:
            self._extractor = KeywordExtractor(kw_embedder, self.keywords)
        return self._extractor.extract(texts, hashes=hashes, cache=self.cache, vectors=vecs)
