from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from forgekit.rag.embedding import (
    EmbeddingCache,
    LiteLLMEmbedder,
    embed_with_cache,
    make_embedder,
)


class CountingEmbedder:
    model_id = "test:counting"
    dim = 3

    def __init__(self):
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen.extend(texts)
        return np.asarray([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_cache_embeds_each_text_once_across_users(tmp_path):
    e = CountingEmbedder()
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    vecs, n = embed_with_cache(e, ["a", "bb", "a"], cache)
    assert n == 2 and e.seen == ["a", "bb"]
    assert vecs.shape == (3, 3) and vecs[0, 0] == 1 and vecs[1, 0] == 2
    # another cache object on the same file (another index, another process) reuses them
    other = EmbeddingCache(tmp_path / "emb.sqlite")
    vecs2, n2 = embed_with_cache(e, ["bb", "ccc"], other)
    assert n2 == 1 and e.seen == ["a", "bb", "ccc"]
    assert np.array_equal(vecs2[0], vecs[1])
    assert other.count("test:counting") == 3 and other.count("another-model") == 0


def test_sentence_transformer_embedder_is_normalised_and_batched(embedder):
    vecs = embedder.embed(["a cat sits on the mat", "a kitten rests on a rug", "tax law"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
    assert make_embedder(None).model_id == "st:all-MiniLM-L6-v2"
    assert (
        make_embedder("litellm:ollama/nomic-embed-text").model_id
        == "litellm:ollama/nomic-embed-text"
    )


@pytest.fixture
def embedding_server():
    """A minimal OpenAI-compatible /v1/embeddings endpoint on loopback."""
    calls: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls.append(body)
            data = [
                {"object": "embedding", "index": i, "embedding": [float(len(t)), 0.0, 3.0, 4.0]}
                for i, t in enumerate(body["input"])
            ]
            out = json.dumps(
                {
                    "object": "list",
                    "data": data,
                    "model": body["model"],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1", calls
    srv.shutdown()
    srv.server_close()


def test_litellm_embedder_batches_and_normalises(embedding_server):
    base, calls = embedding_server
    e = LiteLLMEmbedder("openai/test-embed", api_base=base, batch_size=2, api_key="sk-test")
    vecs = e.embed(["x", "yyy", "zz"])
    assert [len(c["input"]) for c in calls] == [2, 1]
    assert calls[0]["model"] == "test-embed"
    assert vecs.shape == (3, 4)
    assert np.allclose(vecs[2], np.array([2.0, 0.0, 3.0, 4.0]) / 29**0.5)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0)
