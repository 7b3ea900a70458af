"""Memory for agents: `remember` and `recall` tools over a `forgekit.rag.MemoryStore`.

    memory = Memory("notes", agent="planner")             # project "default"
    agent = Agent(model="local", tools=[memory])          # remember(text, importance?)
                                                          # recall(query, k?)
    await memory.remember(ctx, "The user prefers metric units", importance=0.9)
    hits = await memory.recall(ctx, "units?", deep=True)  # sub-queries from the model

Every write and recall is a NoteEvent in the run's trajectory (`memory_write`,
`memory_recall`: the memories found with their score and its parts). Model calls (rating
importance, splitting a query for deep recall) go through `ctx.complete`, so they are
recorded, budgeted and replayable. The session of a run is its run id.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Literal

from forgekit.agents.tools import Tool, ToolEnv, ToolError
from forgekit.core.component import Component
from forgekit.core.context import RunContext
from forgekit.core.events import NoteEvent
from forgekit.core.messages import Message

Level = Literal["project", "agent", "session"]

RATE_PROMPT = (
    "Rate how important this memory is for future tasks, from 0 (trivia) to 10 "
    "(essential). Answer with the number only.\n\nMemory: {text}"
)
SPLIT_PROMPT = (
    "Split this question into at most {n} short search queries, one per line, "
    "covering its different parts. Answer with the queries only.\n\nQuestion: {query}"
)


def parse_rating(text: str) -> float | None:
    """The first number in a 0-10 rating reply, as 0-1; None when there is none."""
    m = re.search(r"\d+(?:\.\d+)?", text or "")
    if m is None:
        return None
    return max(0.0, min(10.0, float(m.group()))) / 10.0


def parse_subqueries(text: str, n: int) -> list[str]:
    """Up to `n` non-empty lines of a reply, without list markers."""
    out = []
    for line in (text or "").splitlines():
        q = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip().strip('"')
        if q and q not in out:
            out.append(q)
    return out[:n]


class Memory(Component, type="memory", kind="tool_bundle"):
    """An agent's memory (see the module docstring).

    Args:
        store: the MemoryStore's name (a LanceDB table in the project's RAG database).
        project: the project scope.
        agent: the agent scope (memories written at level "agent" are shared by every
            run of this agent; "session" ones only within one run).
        level: where `remember` writes by default.
        k: memories per recall.
        deep: recall splits the query into sub-queries with a model call.
        max_subqueries: at most this many sub-queries in a deep recall.
        rate_importance: a memory written without an importance is rated by a model call.
        model: the alias for those model calls (default: the run's).
        project_dir: where `.forgekit/rag/` lives.
        config: MemoryConfig fields (weights, half-life, candidates, embedder, pii).
    """

    def __init__(
        self,
        store: str = "memory",
        *,
        project: str = "default",
        agent: str = "agent",
        level: Level = "agent",
        k: int = 5,
        deep: bool = False,
        max_subqueries: int = 3,
        rate_importance: bool = False,
        model: str | None = None,
        project_dir: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        from forgekit.rag.memory_store import MemoryStore

        self.store = MemoryStore(store, project_dir=project_dir, config=config)
        self.project = project
        self.agent = agent
        self.level: Level = level
        self.k = k
        self.deep = deep
        self.max_subqueries = max_subqueries
        self.rate_importance = rate_importance
        self.model = model

    def __repr__(self) -> str:
        return f"Memory({self.store.name!r}, agent={self.agent!r})"

    def scope(self, ctx: RunContext | None) -> Any:
        from forgekit.rag.memory_store import MemoryScope

        session = ctx.run_id if ctx is not None else ""
        return MemoryScope(project=self.project, agent=self.agent, session=session)

    # -- operations ------------------------------------------------------------------------
    async def rate(self, ctx: RunContext, text: str) -> float | None:
        """Importance 0-1 from a (recorded) model call; None when the reply has no number."""
        resp = await ctx.complete(
            [Message.user(RATE_PROMPT.format(text=text))],
            model=self.model,
            max_tokens=8,
            temperature=0.0,
        )
        return parse_rating(resp.text)

    async def remember(
        self,
        ctx: RunContext,
        text: str,
        *,
        importance: float | None = None,
        level: Level | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        """Store a memory at `level` (default the bundle's); a `memory_write` event."""
        rated = False
        if importance is None and self.rate_importance:
            importance = await self.rate(ctx, text)
            rated = importance is not None
        scope = self.scope(ctx).at(level or self.level)
        rec = await asyncio.to_thread(
            self.store.add,
            text,
            scope=scope,
            importance=importance,
            run_id=ctx.run_id,
            metadata=metadata,
        )
        ctx.emit(
            NoteEvent(
                kind="memory_write",
                data={
                    "store": self.store.name,
                    "id": rec.id,
                    "level": rec.level,
                    "text": rec.text,
                    "importance": rec.importance,
                    "importance_source": "model"
                    if rated
                    else ("given" if importance is not None else "default"),
                    "pii": rec.metadata.get("pii", {}),
                },
            )
        )
        return rec

    async def recall(
        self, ctx: RunContext, query: str, *, k: int | None = None, deep: bool | None = None
    ) -> list[Any]:
        """The best memories for `query` (deep: also for the model's sub-queries, merged by
        best score per memory); a `memory_recall` event with every hit's score parts."""
        k = k or self.k
        deep = self.deep if deep is None else deep
        queries = [query]
        if deep:
            resp = await ctx.complete(
                [Message.user(SPLIT_PROMPT.format(n=self.max_subqueries, query=query))],
                model=self.model,
                max_tokens=96,
                temperature=0.0,
            )
            queries += [q for q in parse_subqueries(resp.text, self.max_subqueries) if q != query]
        scope = self.scope(ctx)
        vectors = await asyncio.to_thread(self.store.embedder.embed, queries)
        best: dict[str, Any] = {}
        for q, vec in zip(queries, vectors, strict=True):
            found = await asyncio.to_thread(self.store.search, q, scope=scope, k=k, vector=vec)
            for h in found:
                if h.record.id not in best or h.score > best[h.record.id].score:
                    best[h.record.id] = h
        hits = sorted(best.values(), key=lambda h: (-h.score, h.record.id))[:k]
        ctx.emit(
            NoteEvent(
                kind="memory_recall",
                data={
                    "store": self.store.name,
                    "query": query,
                    "deep": deep,
                    "subqueries": queries[1:],
                    "hits": [
                        {
                            "id": h.record.id,
                            "text": h.record.text,
                            "level": h.record.level,
                            "score": round(h.score, 6),
                            "cosine": round(h.cosine, 6),
                            "recency": round(h.recency, 6),
                            "importance": h.importance,
                            "query": h.query,
                        }
                        for h in hits
                    ],
                },
            )
        )
        return hits

    # -- tools -----------------------------------------------------------------------------
    def tools(self) -> list[Tool]:
        """`remember` and `recall` as agent tools (they use the run through `env`)."""
        memory = self

        async def remember(
            text: str, importance: float | None = None, env: ToolEnv | None = None
        ) -> str:
            """Store a fact, preference or result worth remembering in later tasks.

            Args:
                text: the memory, one self-contained statement.
                importance: 0 (trivia) to 1 (essential); left out, a default or a rating.
            """
            ctx = _ctx(env)
            if importance is not None and not 0 <= importance <= 1:
                raise ToolError("importance must be between 0 and 1")
            rec = await memory.remember(ctx, text, importance=importance)
            return f"remembered ({rec.level}, importance {rec.importance:.2f}): {rec.text}"

        async def recall(query: str, k: int | None = None, env: ToolEnv | None = None) -> str:
            """Recall memories relevant to a question, best first.

            Args:
                query: what to look for.
                k: how many memories (1-20).
            """
            ctx = _ctx(env)
            hits = await memory.recall(ctx, query, k=max(1, min(int(k or memory.k), 20)))
            if not hits:
                return "no memories found"
            return "\n".join(
                f"{i}. {h.record.text} (score {h.score:.2f})" for i, h in enumerate(hits, 1)
            )

        return [
            _MemoryTool.from_function(remember, effect="write"),
            _MemoryTool.from_function(recall, effect="read"),
        ]


class _MemoryTool(Tool):
    """A tool bound to one Memory: configs record the Memory, not the tool."""

    def __component_config__(self) -> Any:
        from forgekit.core.errors import ConfigError

        raise ConfigError(
            f"the memory tool {self.name!r} is bound to its Memory: pass the Memory itself "
            "(Agent(tools=[memory])) so the agent's config can record and rebuild it",
            key=f"tools.{self.name}",
        )


def _ctx(env: ToolEnv | None) -> RunContext:
    ctx = getattr(env, "run", None)
    if ctx is None:
        raise ToolError("memory tools need a run: call them from an agent")
    return ctx
