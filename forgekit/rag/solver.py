"""`RagSolver`: retrieve, then answer — a RAG pipeline as a Solver (and a component).

    rag = RagSolver(Index("docs/"), k=4)          # or RagSolver("docs-index") by name
    fk.evaluate(rag, "datasets/factual_qa/factual_qa.jsonl", scorers=["f1"])

The sample's text is the query; the top-k passages go into the prompt as ``{context}``;
the retrieval is a `NoteEvent` (``kind="retrieval"``: query, hit ids, scores) in the
run's trajectory, and the answer's metadata lists the retrieved chunk ids (for
retrieval metrics next to answer scores).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from forgekit.core.component import Component
from forgekit.core.context import RunContext
from forgekit.core.events import NoteEvent
from forgekit.core.messages import Message
from forgekit.core.samples import Answer, Sample

RAG_TEMPLATE = (
    "Answer the question using the passages below. If they do not hold the answer, "
    "say so.\n\n{context}\n\nQuestion: {input}\nAnswer:"
)


class RagSolver(Component, type="rag", kind="solver"):
    """Top-k retrieval from an index, then one model call with the passages.

    Args:
        index: an `Index`, or the name of an index built in the project (opened on
            first use, without re-indexing).
        k: how many passages go into the prompt.
        template: ``str.format`` over ``{context}`` and ``{input}``.
        mode: the search mode (``hybrid``, ``vector``, ``keyword``; None: the index's).
        max_chars: each passage is cut to this many characters.
        project_dir: where an index given by name lives (default: the project's).
    """

    raw_args = frozenset({"params"})

    def __init__(
        self,
        index: Any,
        *,
        k: int = 4,
        template: str = RAG_TEMPLATE,
        system: str | None = None,
        mode: str | None = None,
        max_chars: int = 800,
        model: str | None = None,
        name: str = "rag",
        params: dict[str, Any] | None = None,
        project_dir: str | Path | None = None,
    ) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        for field in ("{context}", "{input}"):
            if field not in template:
                raise ValueError(f"the RAG template needs {field}: {template!r}")
        self._index = index if not isinstance(index, str) else None
        self.index_name = index if isinstance(index, str) else index.name
        self.project_dir = project_dir
        self.k, self.template, self.system, self.mode = k, template, system, mode
        self.max_chars, self.model, self.name = max_chars, model, name
        self.params = dict(params or {})

    def config_args(self) -> dict[str, Any]:
        args = dict(super().config_args())
        args["index"] = self.index_name  # an index is named, its documents live on disk
        return args

    @property
    def index(self) -> Any:
        if self._index is None:
            from forgekit.rag.index import Index

            self._index = Index(name=self.index_name, project_dir=self.project_dir, build=False)
        return self._index

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        query = sample.input_text()
        hits = await asyncio.to_thread(self.index.search, query, self.k, mode=self.mode)
        ctx.emit(NoteEvent(kind="retrieval", data={
            "index": self.index_name,
            "query": query,
            "ids": [h.id for h in hits],
            "sources": [h.span for h in hits],
            "scores": [round(h.score, 6) for h in hits],
        }))
        prompt = self.template.format(context=hits.to_text(max_chars=self.max_chars),
                                      input=query)
        messages = [Message.system(self.system)] if self.system else []
        messages.append(Message.user(prompt))
        resp = await ctx.complete(messages, model=self.model, **self.params)
        return Answer(
            text=resp.text,
            usage=resp.usage,
            cost_usd=resp.cost_usd,
            stop_reason=resp.finish_reason,
            messages=[resp.to_message()],
            metadata={"retrieved": [h.id for h in hits], "sources": [h.source for h in hits]},
        )

    def __repr__(self) -> str:
        return f"RagSolver(index={self.index_name!r}, k={self.k})"
