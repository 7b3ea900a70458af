"""What an `Index` indexes: in-memory `Document`s or the files of a folder, each source
with its content hash (what decides whether it changed) and its chunks."""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from forgekit.rag.chunking import Chunk, ChunkingConfig, chunk_document, chunk_file, content_hash

DEFAULT_EXCLUDE = [
    ".git/*",
    "*/.git/*",
    "*/__pycache__/*",
    "__pycache__/*",
    ".forgekit/*",
    "*/.forgekit/*",
    ".venv/*",
    "*/.venv/*",
    "node_modules/*",
    "*.lance/*",
    "*.pyc",
    "*.png",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.zip",
    "*.gz",
    "*.whl",
    "*.so",
    "*.bin",
    "*.parquet",
    "*.sqlite",
    "*.db",
    "*.ipynb_checkpoints/*",
]


class Document(BaseModel):
    """An in-memory document to index."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    title: str = ""
    kind: str = "document"
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def hash(self) -> str:
        from forgekit.core.hashing import stable_hash

        return stable_hash([self.title, self.text, self.kind, self.metadata], length=32)


def as_documents(docs: Iterable[Any]) -> list[Document]:
    """Documents from strs, dicts (`id` or `_id`, `text`, `title`, `metadata`; other keys
    join the metadata) or `Document`s; a bad one or a repeated id is a `DataError`."""
    out = []
    for i, d in enumerate(docs):
        if isinstance(d, Document):
            out.append(d)
        elif isinstance(d, str):
            out.append(Document(id=f"doc-{i}", text=d))
        elif isinstance(d, dict):
            d = dict(d)
            if "_id" in d and "id" not in d:
                d["id"] = d.pop("_id")
            try:
                out.append(
                    Document(
                        **{
                            k: v
                            for k, v in d.items()
                            if k in Document.model_fields and k != "metadata"
                        },
                        metadata={
                            **d.get("metadata", {}),
                            **{k: v for k, v in d.items() if k not in Document.model_fields},
                        },
                    )
                )
            except Exception as e:
                from forgekit.core.errors import DataError

                raise DataError(f"document {i} is not valid: {e}") from e
        else:
            from forgekit.core.errors import DataError

            raise DataError(
                f"document {i} is a {type(d).__name__}; expected a str, a dict "
                "with id/text (title, metadata) or a Document"
            )
    ids = Counter(d.id for d in out)
    dup = [i for i, n in ids.items() if n > 1]
    if dup:
        from forgekit.core.errors import DataError

        raise DataError(
            "document ids must be unique", problems=[f"duplicate id {i!r}" for i in dup[:20]]
        )
    return out


class IndexSources:
    """The sources of one update: a folder (or one file) or a list of documents.

    Args:
        root: the folder or file (sources are paths relative to it, or to its folder).
        documents: the documents (sources are their ids); exactly one of the two is set.
        include, exclude: glob patterns of relative paths (a pattern without a folder
            also matches the file name).
        max_file_bytes: larger files are skipped (and reported).
        chunking: how sources are cut into chunks.
    """

    def __init__(
        self,
        *,
        root: Path | None,
        documents: list[Document] | None,
        include: list[str],
        exclude: list[str],
        max_file_bytes: int,
        chunking: ChunkingConfig,
    ) -> None:
        self.root = root
        self.documents = documents
        self.max_file_bytes = max_file_bytes
        self.chunking = chunking
        self._include = _globs(include)
        self._exclude = _globs(exclude)
        self._by_id = {d.id: d for d in documents} if documents is not None else {}

    def wanted(self, rel: str) -> bool:
        """Whether the file at relative path `rel` is to be indexed."""
        inc = self._include
        if not (inc.match(rel) or inc.match(rel.rsplit("/", 1)[-1])):
            return False
        return not self._exclude.match(rel)

    def scan(self, skipped: list[str]) -> dict[str, str]:
        """source -> content hash of every source to index now (files too large are
        appended to `skipped`; binary files are left out)."""
        if self.documents is not None:
            return {d.id: d.hash for d in self.documents}
        assert self.root is not None
        if self.root.is_file():
            files = [self.root]
            base = self.root.parent
        else:
            base = self.root
            files = sorted(p for p in self.root.rglob("*") if p.is_file())
        out: dict[str, str] = {}
        for p in files:
            rel = p.relative_to(base).as_posix()
            if not self.wanted(rel):
                continue
            size = p.stat().st_size
            if size > self.max_file_bytes:
                skipped.append(rel)
                continue
            data = p.read_bytes()
            if b"\x00" in data[:4096] and p.suffix.lower() != ".pdf":
                continue  # binary
            out[rel] = content_hash(data)
        return out

    def chunks(self, source: str) -> list[Chunk]:
        """The chunks of one source (before the PII filter)."""
        cfg = self.chunking
        if self.documents is not None:
            d = self._by_id[source]
            return chunk_document(
                d.text, doc_id=d.id, title=d.title, kind=d.kind, metadata=d.metadata, cfg=cfg
            )
        assert self.root is not None
        base = self.root.parent if self.root.is_file() else self.root
        return chunk_file(base / source, source=source, cfg=cfg)


def _globs(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns) or "(?!)")
