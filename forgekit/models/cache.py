"""The on-disk response cache: one SQLite file (WAL mode) under `cache.dir`.

The key is a stable hash of everything that decides an answer: the litellm model string,
the endpoint, the messages, the tools, the sampling parameters **and the call key**
(sample id, epoch, attempt, seed). Best-of-N therefore gets N different cached answers,
not N copies of one. Errors are never written. Each entry is one committed row, so a
crash never leaves half an entry, and several processes may share the cache (WAL).
SQLite rather than a file per entry: creating files costs far more than the ~20 µs of an
insert, and the cache sits on every call's hot path.

A hit comes back with ``cached=True`` and the cost and tokens of the call that produced
it, so a resumed evaluation records the same numbers as an uninterrupted one. It spends
nothing: no budget is charged for it, and ``stats()["saved_usd"]`` sums what hits saved.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from forgekit.core.hashing import stable_hash
from forgekit.core.messages import Message, ModelResponse
from forgekit.core.redact import redact, secret_values

log = logging.getLogger(__name__)
DB_FILE = "responses.sqlite"
CACHE_VERSION = 1


def cache_key(
    *,
    model: str,
    api_base: str | None,
    messages: list[Message],
    tools: list[dict[str, Any]] | None,
    params: dict[str, Any],
    call_key: dict[str, Any] | None,
) -> str:
    """The stable key of one request (32 hex characters)."""
    return stable_hash(
        {
            "v": CACHE_VERSION,
            "model": model,
            "api_base": api_base,
            "messages": [m.to_openai() for m in messages],
            "tools": tools,
            "params": params,
            "call_key": call_key or {},
        },
        length=32,
    )


class ResponseCache:
    """SQLite-backed cache under `root` with hit/miss counters; thread-safe."""

    def __init__(self, root: str | Path, *, enabled: bool = True) -> None:
        self.root = Path(root)
        self.path = self.root / DB_FILE
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self.saved_usd = 0.0
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is not None and self._pid == os.getpid():
            return self._db
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                str(self.path), isolation_level=None, timeout=10, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, alias TEXT, "
                "created REAL, cost_usd REAL, response TEXT NOT NULL)"
            )
        except (sqlite3.Error, OSError) as e:
            log.warning("response cache disabled: cannot open %s (%s)", self.path, e)
            self.enabled = False
            return None
        self._db, self._pid = db, os.getpid()
        return db

    def get(self, key: str) -> ModelResponse | None:
        """The cached response for `key` (marked cached, with its original cost), or None."""
        if not self.enabled:
            return None
        with self._lock:
            db = self._conn()
            try:
                row = (
                    db.execute(
                        "SELECT response, cost_usd FROM entries WHERE key = ?", (key,)
                    ).fetchone()
                    if db is not None
                    else None
                )
            except sqlite3.Error:
                row = None
            response = None
            cost = 0.0
            if row is not None:
                cost = float(row[1] or 0.0)
                try:
                    response = ModelResponse.model_validate_json(row[0])
                except ValueError:
                    response = None  # a damaged entry is a miss, and is overwritten
            if response is None:
                self.misses += 1
                return None
            self.hits += 1
            self.saved_usd += cost
        response.cached = True
        response.cost_usd = cost  # what producing it cost (not spent again)
        response.retries = 0
        return response

    def put(self, key: str, response: ModelResponse, *, alias: str = "") -> None:
        """Store a successful response (secrets redacted)."""
        if not self.enabled:
            return
        body = json.dumps(
            redact(response.model_dump(mode="json"), secret_values()), ensure_ascii=False
        )
        with self._lock:
            db = self._conn()
            if db is None:
                return
            try:
                db.execute(
                    "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)",
                    (key, alias, time.time(), response.cost_usd, body),
                )
            except sqlite3.Error as e:
                log.warning("response cache write failed: %s", e)
                return
            self.writes += 1

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every stored entry: key, alias, created, cost_usd, response (a dict)."""
        with self._lock:
            db = self._conn()
            rows = db.execute("SELECT * FROM entries").fetchall() if db is not None else []
        for key, alias, created, cost, response in rows:
            yield {
                "key": key,
                "alias": alias,
                "created": created,
                "cost_usd": cost,
                "response": json.loads(response),
            }

    def stats(self) -> dict[str, Any]:
        """Hit/miss counters of this process, and the USD the hits saved."""
        total = self.hits + self.misses
        return {
            "hits": self.hits,
            "misses": self.misses,
            "writes": self.writes,
            "hit_rate": (self.hits / total) if total else 0.0,
            "saved_usd": self.saved_usd,
            "dir": str(self.root),
        }

    def clear(self) -> int:
        """Delete every entry; returns how many were removed."""
        with self._lock:
            db = self._conn()
            if db is None:
                return 0
            return db.execute("DELETE FROM entries").rowcount

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
