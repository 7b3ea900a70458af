"""`ExperiencePool`: opt-in reuse of solved tasks (after MetaGPT's exp_cache).

Before solving, the pool looks up the most similar task it has seen solved well
(cosine similarity of the task text's embedding, among tasks with the same context key).
At or above `threshold`:

- mode ``reuse``: the stored answer is returned; the inner solver does not run;
- mode ``hint``: the stored task and answer go into the prompt as a worked example and the
  inner solver runs on that.

Below it (a miss) the inner solver runs as usual. Either way the run records an
`experience` NoteEvent (hit or miss, similarity, the source run id and sample of a hit)
and the answer's metadata says the same (`answer.metadata["experience"]`).

Results enter the pool only with a score: the eval runner calls `record_outcome` after
scoring, and answers scoring at least `min_score` are stored with their score and run id
(reused answers are not stored again). Nothing uses the pool unless a solver is wrapped
in one: evals compare `ExperiencePool(solver)` with `solver` like any strategy, and
`forgekit.evals.experience_summary(results)` gives the hit rate and the accuracy of hits
against misses.

    pool = ExperiencePool(Direct("{input}"), mode="hint", threshold=0.85)
    results = fk.evaluate(suite_with(pool))

The pool is a LanceDB table (`memory_<store>`) beside the project's indexes, so it
persists between runs; `context_key` (default: the inner solver's name and the model
alias) keeps experience of different set-ups apart.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from forgekit.core.component import Component
from forgekit.core.context import RunContext, Solver
from forgekit.core.events import NoteEvent
from forgekit.core.messages import Message
from forgekit.core.samples import Answer, Sample

HINT = (
    "A similar task solved before (similarity {similarity:.2f}):\n"
    "Task: {task}\nAnswer: {answer}\n\nNow the task at hand:\n"
)


class ExperiencePool(Component, type="experience_pool", kind="solver"):
    """A solver wrapper that reuses solved tasks (see the module docstring).

    Args:
        inner: the solver to wrap.
        mode: "reuse" (return the stored answer) or "hint" (a worked example in the prompt).
        threshold: the cosine similarity from which a stored task counts as a hit.
        min_score: results scoring at least this are stored.
        store: the pool's name (a LanceDB table in the project's RAG database).
        context_key: experience is only shared within one key (default:
            "<inner solver name>@<model alias>").
        project_dir: where `.forgekit/rag/` lives.
        name: the solver's name (default "experience(<inner name>)").
    """

    def __init__(
        self,
        inner: Solver,
        *,
        mode: Literal["reuse", "hint"] = "reuse",
        threshold: float = 0.9,
        min_score: float = 1.0,
        store: str = "experience",
        context_key: str | None = None,
        project_dir: str | None = None,
        name: str | None = None,
    ) -> None:
        from forgekit.rag.memory_store import MemoryStore

        if mode not in ("reuse", "hint"):
            raise ValueError(f"mode must be 'reuse' or 'hint', not {mode!r}")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold is a cosine similarity between 0 and 1")
        self.inner = inner
        self.mode = mode
        self.threshold = threshold
        self.min_score = min_score
        self.context_key = context_key
        self.name = name or f"experience({getattr(inner, 'name', 'solver')})"
        # pure cosine ranking: the pool asks "was this task solved", not "what is recent"
        self.store = MemoryStore(
            store,
            project_dir=project_dir,
            config={"w_semantic": 1.0, "w_recency": 0.0, "w_importance": 0.0, "candidates": 8},
        )

    def __repr__(self) -> str:
        return f"ExperiencePool({self.inner!r}, mode={self.mode!r}, threshold={self.threshold})"

    def key(self, ctx: RunContext) -> str:
        return self.context_key or f"{getattr(self.inner, 'name', 'solver')}@{ctx.model or ''}"

    def _scope(self, ctx: RunContext) -> Any:
        from forgekit.rag.memory_store import MemoryScope

        return MemoryScope(project=f"experience:{self.key(ctx)}")

    async def lookup(self, task: str, ctx: RunContext) -> Any:
        """The most similar stored task (a MemoryHit) for `task`, or None."""
        hits = await asyncio.to_thread(self.store.search, task, scope=self._scope(ctx), k=1)
        return hits[0] if hits else None

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        task = sample.input_text()
        hit = await self.lookup(task, ctx)
        similarity = hit.cosine if hit is not None else None
        info: dict[str, Any] = {
            "hit": hit is not None and hit.cosine >= self.threshold,
            "mode": self.mode,
            "similarity": None if similarity is None else round(similarity, 6),
            "threshold": self.threshold,
            "context_key": self.key(ctx),
        }
        if info["hit"]:
            meta = hit.record.metadata
            info.update(
                source_run_id=hit.record.run_id,
                source_sample_id=meta.get("sample_id"),
                source_score=meta.get("score"),
            )
        ctx.emit(NoteEvent(kind="experience", data=dict(info)))
        if info["hit"] and self.mode == "reuse":
            return Answer(
                text=hit.record.metadata.get("answer", ""),
                stop_reason="experience: reused",
                metadata={"experience": info},
            )
        if info["hit"]:
            sample = _with_hint(sample, hit)
        answer = await self.inner.solve(sample, ctx)
        metadata = {**answer.metadata, "experience": info}
        return answer.model_copy(update={"metadata": metadata})

    async def record_outcome(
        self, sample: Sample, answer: Answer, score: float | None, ctx: RunContext
    ) -> bool:
        """Store a scored result if it is good enough (the eval runner calls this after
        scoring); False when it was not stored (low score, no score, or a reused answer)."""
        info = answer.metadata.get("experience", {})
        if score is None or score < self.min_score or not answer.text:
            return False
        if info.get("hit") and info.get("mode") == "reuse":
            return False  # already in the pool
        await asyncio.to_thread(
            self.store.add,
            sample.input_text(),
            scope=self._scope(ctx),
            importance=1.0,
            run_id=ctx.run_id,
            metadata={"answer": answer.text, "score": score, "sample_id": sample.id},
        )
        ctx.emit(NoteEvent(kind="experience_stored", data={"score": score}))
        return True


def _with_hint(sample: Sample, hit: Any) -> Sample:
    hint = HINT.format(
        similarity=hit.cosine, task=hit.record.text, answer=hit.record.metadata.get("answer", "")
    )
    if isinstance(sample.input, str):
        return sample.model_copy(update={"input": hint + sample.input})
    messages = list(sample.input)
    for i, m in enumerate(messages):
        if m.role == "user":
            messages[i] = Message.user(hint + (m.content or ""))
            break
    return sample.model_copy(update={"input": messages})
