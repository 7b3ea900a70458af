"""`IndexExplorer`: a query box over a forgekit.rag `Index`, hits with their scores.

Searches typed in the widget run in a worker thread, so the kernel stays free. Any object
with `search(query, k=..., mode=...)` returning hits works; a hit may be a
`forgekit.rag.SearchHit` or anything with `text`, `source`, `score` (and optionally
`scores`, `keywords`, `span`, `section`).

Example:
    >>> from forgekit.notebook import IndexExplorer
    >>> IndexExplorer(index, k=5, mode="hybrid")       # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from html import escape
from typing import Any

from forgekit.notebook.live import LiveView

MODES = ["hybrid", "vector", "keyword"]


def hit_row(hit: Any) -> dict[str, Any]:
    """A hit as plain data: text, source span, final score, vector/keyword/fused scores."""
    get = hit.get if isinstance(hit, dict) else lambda k, d=None: getattr(hit, k, d)
    scores = {str(k): float(v) for k, v in (get("scores") or {}).items()}
    final = float(get("score", 0.0) or 0.0)
    fused = scores.get("fused", scores.get("rrf", final if len(scores) != 1 else None))
    return {
        "text": str(get("text", "")),
        "source": str(get("span", None) or get("source", "")),
        "section": str(get("section", "") or ""),
        "score": final,
        "vector": scores.get("vector"),
        "keyword": scores.get("keyword"),
        "fused": fused,
        "scores": scores,
        "keywords": [str(k) for k in (get("keywords") or [])],
    }


class IndexExplorer(LiveView):
    """Query an index from a notebook and see why each hit ranked where it did.

    Args:
        index: a `forgekit.rag.Index` (or anything with `search(query, k=, mode=)`).
        k: hits per query.
        mode: "hybrid", "vector" or "keyword".
        query: an initial query, searched at once.
    """

    widget_name = "explorer"

    def __init__(self, index: Any, *, k: int = 5, mode: str = "hybrid", query: str = "") -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.index = index
        self.k = k
        self.mode = mode
        self.query = query
        self.hits: list[dict[str, Any]] = []
        self.error: str | None = None
        self.busy = False
        self.took_ms: float | None = None
        self._search_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        if query:
            self.search(query)

    def search(
        self, query: str, *, k: int | None = None, mode: str | None = None
    ) -> list[dict[str, Any]]:
        """Run a query now (in this thread) and show its hits."""
        with self._search_lock:
            self.query, self.k, self.mode = query, k or self.k, mode or self.mode
            self.busy, self.error = True, None
            self.refresh(force=True)
            t0 = time.perf_counter()
            try:
                hits = self.index.search(query, k=self.k, mode=self.mode)
                self.hits = [hit_row(h) for h in hits]
            except Exception as e:  # shown in the widget, never raised into the comm
                self.hits, self.error = [], f"{type(e).__name__}: {e}"
            self.took_ms = (time.perf_counter() - t0) * 1000
            self.busy = False
        self.refresh(force=True)
        return self.hits

    def search_in_background(self, query: str, **kw: Any) -> threading.Thread:
        """Run a query in a worker thread (what the widget's Search button does)."""
        t = threading.Thread(
            target=self.search, args=(query,), kwargs=kw, name="forgekit-index-search", daemon=True
        )
        self._worker = t
        t.start()
        return t

    def handle(self, message: dict[str, Any]) -> None:
        if message.get("action") == "search":
            k = message.get("k")
            self.search_in_background(
                str(message.get("query", "")), k=int(k) if k else None, mode=message.get("mode")
            )

    def state(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "k": self.k,
            "mode": self.mode,
            "modes": MODES,
            "hits": self.hits,
            "error": self.error,
            "busy": self.busy,
            "took_ms": self.took_ms,
            "index": repr(self.index),
        }

    def html(self) -> str:
        rows = []
        for i, h in enumerate(self.hits, 1):
            sc = " · ".join(
                f"{k} {h[k]:.3f}" for k in ("vector", "keyword", "fused") if h.get(k) is not None
            )
            text = h["text"] if len(h["text"]) <= 400 else h["text"][:400] + " …"
            rows.append(
                f"<tr><td>{i}</td><td>{h['score']:.4f}</td><td>{escape(sc)}</td>"
                f"<td><code>{escape(h['source'])}</code></td><td>{escape(text)}</td>"
                f"<td>{escape(', '.join(h['keywords']))}</td></tr>"
            )
        err = f"<div style='color:#c62828'>{escape(self.error)}</div>" if self.error else ""
        return (
            f"<div class='fk-static-explorer'><b>{escape(self.mode)}</b> search "
            f"<i>{escape(self.query)}</i>: {len(self.hits)} hit(s){err}"
            f"<table><tr><th>#</th><th>score</th><th>vector · keyword · fused</th>"
            f"<th>source</th><th>text</th><th>keywords</th></tr>{''.join(rows)}</table>"
            f"</div>"
        )

    def __repr__(self) -> str:
        return f"IndexExplorer({self.index!r}, query={self.query!r}, hits={len(self.hits)})"
