"""A deterministic, optionally slow embedder for tests that are about indexing mechanics
(crash safety, watching), not about retrieval quality: a child process can be killed in
the middle of an update it is slowed down to last."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import numpy as np


class SlowHashEmbedder:
    model_id = "test-slow-hash-v1"
    dim = 16

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.delay_s:
            time.sleep(self.delay_s)
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            v = np.frombuffer(hashlib.sha256(t.encode()).digest()[: self.dim], np.uint8) + 1.0
            out[i] = v / np.linalg.norm(v)
        return out
