"""KeyBERT keywords per chunk (MMR for diversity), with the index's own embedding model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from forgekit.rag.embedding import EmbeddingCache, SentenceTransformerEmbedder


class KeywordConfig(BaseModel):
    """KeyBERT settings.

    Attributes:
        enabled: extract keywords while indexing.
        top_n: keywords per chunk.
        ngram_max: longest keyphrase in words.
        diversity: MMR diversity (0: most similar, 1: most diverse).
        batch_size: chunks per KeyBERT call (the vocabulary is embedded once per batch).
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    top_n: int = Field(default=5, ge=1)
    ngram_max: int = Field(default=1, ge=1, le=3)
    diversity: float = Field(default=0.5, ge=0, le=1)
    batch_size: int = Field(default=256, ge=1)

    def key(self, model_id: str) -> str:
        return f"keybert:{model_id}:{self.top_n}:{self.ngram_max}:{self.diversity}"


class KeywordExtractor:
    """Extracts keywords with KeyBERT over a sentence-transformers embedder."""

    def __init__(
        self, embedder: SentenceTransformerEmbedder, cfg: KeywordConfig | None = None
    ) -> None:
        self.embedder = embedder
        self.cfg = cfg or KeywordConfig()
        self._kb: Any = None

    def _keybert(self) -> Any:
        if self._kb is None:
            import os

            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            from keybert import KeyBERT

            self._kb = KeyBERT(model=self.embedder.model)
        return self._kb

    def extract(
        self,
        texts: Sequence[str],
        *,
        hashes: Sequence[str] | None = None,
        cache: EmbeddingCache | None = None,
        vectors: Any = None,
    ) -> list[list[str]]:
        """Keywords for each text (cached by text hash when a cache is given).

        Args:
            texts: the chunks.
            hashes: their content hashes (computed when missing).
            cache: embedding cache: keywords and candidate-word vectors are kept there.
            vectors: the texts' embeddings, when already known (saves a forward pass).
        """
        from forgekit.rag.chunking import content_hash

        hashes = list(hashes) if hashes is not None else [content_hash(t) for t in texts]
        key = self.cfg.key(self.embedder.model_id)
        found = cache.get_keywords(key, hashes) if cache is not None else {}
        todo = [i for i, h in enumerate(hashes) if h not in found]
        new: dict[str, str] = {}
        from forgekit.core.progress import Progress

        # ~150 ms per chunk: a few hundred chunks are minutes, say so once it lasts
        with Progress("keywords", total=len(todo), unit="chunk", delay_s=2.0) as bar:
            for s in range(0, len(todo), self.cfg.batch_size):
                idx = todo[s : s + self.cfg.batch_size]
                vecs = None if vectors is None else vectors[idx]
                kws = self._run([texts[i] for i in idx], vecs, cache)
                for i, k in zip(idx, kws, strict=True):
                    new[hashes[i]] = "\n".join(k)
                bar.update(len(idx))
        if cache is not None and new:
            cache.put_keywords(key, new)
        found.update(new)
        return [found[h].split("\n") if found[h] else [] for h in hashes]

    def _run(self, texts: list[str], vectors: Any, cache: EmbeddingCache | None) -> list[list[str]]:
        """One KeyBERT call per batch: the candidate vocabulary is embedded once (and
        cached), MMR then runs per text."""
        from sklearn.feature_extraction.text import CountVectorizer

        from forgekit.rag.embedding import embed_with_cache

        ngram = (1, self.cfg.ngram_max)
        try:
            words = CountVectorizer(ngram_range=ngram, stop_words="english").fit(texts)
        except ValueError:  # only stop words: nothing to extract
            return [[] for _ in texts]
        vocab = [str(w) for w in words.get_feature_names_out()]
        word_vecs, _ = embed_with_cache(self.embedder, vocab, cache)
        if vectors is None:
            vectors = self.embedder.embed(texts)
        res = self._keybert().extract_keywords(
            texts,
            keyphrase_ngram_range=ngram,
            stop_words="english",
            top_n=self.cfg.top_n,
            use_mmr=True,
            diversity=self.cfg.diversity,
            doc_embeddings=vectors,
            word_embeddings=word_vecs,
        )
        if len(texts) == 1:
            res = [res]
        return [[k for k, _ in r] for r in res]
