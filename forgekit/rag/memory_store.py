"""Agent memory: a LanceDB table beside the project's indexes, recalled by a composite
score of meaning, recency and importance.

    score = w_s * cosine + w_r * recency + w_i * importance
    recency = 0.5 ** (age_s / half_life_s)            (1 now, 0.5 after one half-life)

with defaults 0.5 / 0.3 / 0.2 and a 7-day half-life. A search fetches the `candidates`
nearest memories by cosine (a pre-filtered vector search in the caller's scope), then
ranks them by the composite score; each hit keeps its three parts, so a recall can be
explained.

Scopes nest: every memory belongs to a project, and optionally to an agent and to one
session of it. A reader at (project, agent, session) sees the project's memories, its
agent's, and its session's: `MemoryScope("p", "a", "s").visible()`.

Text goes through the same PII filter as the index before it is embedded or stored.
The agent tools (`remember`, `recall`, deep recall, model-rated importance) live in
`forgekit.agents.memory`.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forgekit.rag.embedding import Embedder, make_embedder
from forgekit.rag.pii import PIIConfig, PIIFilter

Level = Literal["project", "agent", "session"]
DAY_S = 86_400.0


class MemoryConfig(BaseModel):
    """How memories are scored and stored.

    Attributes:
        w_semantic: weight of the cosine similarity to the query.
        w_recency: weight of the recency decay.
        w_importance: weight of the memory's importance (0-1).
        half_life_s: the age at which recency is 0.5.
        candidates: nearest memories fetched by cosine before the composite ranking.
        default_importance: importance of a memory written without one.
        embedder: as in `IndexConfig.embedder` ("default": all-MiniLM-L6-v2, offline).
        pii: the PII filter applied on write.
    """

    model_config = ConfigDict(extra="forbid")

    w_semantic: float = Field(default=0.5, ge=0)
    w_recency: float = Field(default=0.3, ge=0)
    w_importance: float = Field(default=0.2, ge=0)
    half_life_s: float = Field(default=7 * DAY_S, gt=0)
    candidates: int = Field(default=50, ge=1)
    default_importance: float = Field(default=0.5, ge=0, le=1)
    embedder: str = "default"
    pii: PIIConfig = Field(default_factory=PIIConfig)

    @model_validator(mode="after")
    def _some_weight(self) -> MemoryConfig:
        if self.w_semantic + self.w_recency + self.w_importance <= 0:
            raise ValueError("at least one of w_semantic, w_recency, w_importance must be > 0")
        return self


class MemoryScope(BaseModel):
    """Where a memory lives, or who is reading: a project, optionally an agent and a
    session of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: str = "default"
    agent: str = ""
    session: str = ""

    def at(self, level: Level) -> MemoryScope:
        """This scope cut to `level` (a memory written for the whole agent, say)."""
        if level == "project":
            return MemoryScope(project=self.project)
        if level == "agent":
            if not self.agent:
                raise ValueError("an agent-level memory needs a scope with an agent")
            return MemoryScope(project=self.project, agent=self.agent)
        if not self.session:
            raise ValueError("a session-level memory needs a scope with a session")
        return self

    def visible(self) -> str:
        """The LanceDB filter of the memories this reader sees."""

        def q(v: str) -> str:
            return "'" + v.replace("'", "''") + "'"

        cond = [f"project = {q(self.project)}"]
        cond.append(f"(agent = '' OR agent = {q(self.agent)})" if self.agent else "agent = ''")
        cond.append(
            f"(session = '' OR session = {q(self.session)})" if self.session else "session = ''"
        )
        return " AND ".join(cond)


class MemoryRecord(BaseModel):
    """One stored memory."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    project: str = "default"
    agent: str = ""
    session: str = ""
    importance: float = 0.5
    created_at: float = 0.0
    run_id: str = ""  # the run that wrote it
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def level(self) -> Level:
        return "session" if self.session else "agent" if self.agent else "project"


class MemoryHit(BaseModel):
    """A recalled memory with its score and the score's three parts."""

    model_config = ConfigDict(extra="forbid")

    record: MemoryRecord
    score: float
    cosine: float
    recency: float
    importance: float
    query: str = ""  # the (sub-)query that found it


def recency_decay(age_s: float, half_life_s: float) -> float:
    """0.5 ** (age / half-life): 1 for a new memory, 0.5 after one half-life."""
    return 0.5 ** (max(0.0, age_s) / half_life_s)


def composite_score(
    cosine: float, age_s: float, importance: float, cfg: MemoryConfig
) -> tuple[float, float]:
    """(score, recency) of one memory for one query under `cfg`'s weights."""
    rec = recency_decay(age_s, cfg.half_life_s)
    score = cfg.w_semantic * cosine + cfg.w_recency * rec + cfg.w_importance * importance
    return score, rec


class MemoryStore:
    """Memories in a LanceDB table `memory_<name>` of the project's RAG database.

    Args:
        name: the store's name (letters, digits, - and _).
        project_dir: where `.forgekit/rag/` lives (default FORGEKIT_HOME or the cwd).
        config: a MemoryConfig (or dict); keyword arguments override its fields.
        embedder: an Embedder object (overrides config.embedder).

    Example:
        >>> store = MemoryStore("notes")                                 # doctest: +SKIP
        >>> store.add("The user prefers metric units", scope=MemoryScope(agent="a"),
        ...           importance=0.9)                                   # doctest: +SKIP
        >>> store.search("which units?", scope=MemoryScope(agent="a"))   # doctest: +SKIP
    """

    def __init__(
        self,
        name: str = "memory",
        *,
        project_dir: str | Path | None = None,
        config: MemoryConfig | dict[str, Any] | None = None,
        embedder: Embedder | None = None,
        **overrides: Any,
    ) -> None:
        from forgekit.core.config import project_root
        from forgekit.core.errors import ConfigError

        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"memory name {name!r} must be letters, digits, - and _", key="name")
        if isinstance(config, dict):
            config = MemoryConfig(**config)
        config = config or MemoryConfig()
        if overrides:
            config = MemoryConfig(**{**config.model_dump(), **overrides})
        self.name = name
        self.config = config
        self.project_dir = Path(project_dir) if project_dir else project_root()
        self.dir = self.project_dir / ".forgekit" / "rag"
        self.embedder = embedder or make_embedder(config.embedder)
        self.pii = PIIFilter(config.pii)
        self.table_name = f"memory_{name}"
        self._db: Any = None
        self._table: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryStore({self.name!r}, memories={len(self)})"

    # -- storage ---------------------------------------------------------------------
    @property
    def db(self) -> Any:
        if self._db is None:
            from forgekit.rag.table import connect

            self.dir.mkdir(parents=True, exist_ok=True)
            self._db = connect(self.dir / "lancedb")
        return self._db

    @property
    def table(self) -> Any:
        from forgekit.rag.table import has_table

        if self._table is None and has_table(self.db, self.table_name):
            self._table = self.db.open_table(self.table_name)
        return self._table

    def _schema(self) -> Any:
        import pyarrow as pa

        return pa.schema(
            [
                ("id", pa.string()),
                ("text", pa.string()),
                ("project", pa.string()),
                ("agent", pa.string()),
                ("session", pa.string()),
                ("importance", pa.float64()),
                ("created_at", pa.float64()),
                ("run_id", pa.string()),
                ("metadata", pa.string()),
                ("vector", pa.list_(pa.float32(), self.embedder.dim)),
            ]
        )

    def __len__(self) -> int:
        return 0 if self.table is None else int(self.table.count_rows())

    # -- write -----------------------------------------------------------------------
    def add(
        self,
        text: str,
        *,
        scope: MemoryScope | None = None,
        importance: float | None = None,
        run_id: str = "",
        metadata: dict[str, Any] | None = None,
        now: float | None = None,
    ) -> MemoryRecord:
        """Store one memory (PII-filtered, embedded); returns what was stored."""
        from forgekit.core.context import new_run_id

        scope = scope or MemoryScope()
        imp = self.config.default_importance if importance is None else float(importance)
        if not 0.0 <= imp <= 1.0:
            raise ValueError(f"importance must be between 0 and 1, got {imp}")
        clean, hits = self.pii.apply(text.strip())
        if not clean:
            raise ValueError("a memory needs some text")
        meta = dict(metadata or {})
        if hits:
            meta["pii"] = dict(hits)
        rec = MemoryRecord(
            id=new_run_id(),
            text=clean,
            project=scope.project,
            agent=scope.agent,
            session=scope.session,
            importance=imp,
            created_at=time.time() if now is None else now,
            run_id=run_id,
            metadata=meta,
        )
        vec = self.embedder.embed([clean])[0]
        row = {**rec.model_dump(), "metadata": json.dumps(meta), "vector": vec.tolist()}
        from forgekit.rag.table import no_namespace_datasets

        with self._lock, no_namespace_datasets():  # lancedb checks `datasets` on add
            if self.table is None:
                self._table = self.db.create_table(self.table_name, schema=self._schema())
            self._table.add([row])
        return rec

    def delete(self, ids: list[str]) -> None:
        if self.table is None or not ids:
            return
        quoted = ", ".join("'" + i.replace("'", "''") + "'" for i in ids)
        with self._lock:
            self.table.delete(f"id IN ({quoted})")

    def records(self, scope: MemoryScope | None = None) -> list[MemoryRecord]:
        """Every memory visible from `scope` (all of them without one), oldest first."""
        if self.table is None:
            return []
        q = self.table.search()
        if scope is not None:
            q = q.where(scope.visible())
        rows = q.limit(max(1, len(self))).to_arrow().to_pylist()
        return sorted((_record(r) for r in rows), key=lambda r: r.created_at)

    # -- read ------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        scope: MemoryScope | None = None,
        k: int = 5,
        now: float | None = None,
        vector: Any = None,
    ) -> list[MemoryHit]:
        """The `k` best memories for `query` visible from `scope`, by composite score."""
        if self.table is None or k <= 0:
            return []
        scope = scope or MemoryScope()
        vec = self.embedder.embed([query])[0] if vector is None else vector
        rows = (
            self.table.search(vec, vector_column_name="vector")
            .distance_type("cosine")
            .where(scope.visible(), prefilter=True)
            .limit(max(k, self.config.candidates))
            .to_arrow()
            .to_pylist()
        )
        now = time.time() if now is None else now
        hits = []
        for r in rows:
            rec = _record(r)
            cosine = 1.0 - float(r["_distance"])
            score, rec_decay = composite_score(
                cosine, now - rec.created_at, rec.importance, self.config
            )
            hits.append(
                MemoryHit(
                    record=rec,
                    score=score,
                    cosine=cosine,
                    recency=rec_decay,
                    importance=rec.importance,
                    query=query,
                )
            )
        hits.sort(key=lambda h: (-h.score, h.record.id))
        return hits[:k]


def _record(row: dict[str, Any]) -> MemoryRecord:
    data = {k: row[k] for k in MemoryRecord.model_fields if k in row}
    data["metadata"] = json.loads(row.get("metadata") or "{}")
    data["importance"] = float(row["importance"])
    return MemoryRecord(**data)
