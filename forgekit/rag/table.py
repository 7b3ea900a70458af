"""The LanceDB chunk table behind an `Index`: its schema, Arrow rows from chunks,
deleting a source's rows, the full-text indexes, and opening LanceDB safely."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from forgekit.rag.chunking import Chunk


@contextmanager
def no_namespace_datasets() -> Iterator[None]:
    """Hide a `datasets` namespace package (a project's `datasets/` folder imported from
    the cwd) from LanceDB, which takes any `datasets` in sys.modules for Hugging Face's
    and fails to import `Dataset` from it."""
    mod = sys.modules.get("datasets")
    bogus = mod if mod is not None and getattr(mod, "__file__", None) is None else None
    if bogus is not None:
        del sys.modules["datasets"]
    try:
        yield
    finally:
        if bogus is not None:
            sys.modules.setdefault("datasets", bogus)


def connect(folder: Path) -> Any:
    """A LanceDB connection to `folder` (imported here: lancedb is heavy)."""
    with no_namespace_datasets():  # lancedb looks at `datasets` on import
        import lancedb

    return lancedb.connect(str(folder))


def has_table(db: Any, name: str) -> bool:
    """Whether the LanceDB connection holds table `name` (`list_tables` pages its answer;
    `table_names`, which did not, is deprecated)."""
    token = None
    while True:
        page = db.list_tables(page_token=token)
        if name in page.tables:
            return True
        token = page.page_token
        if not token:
            return False


def chunk_schema(dim: int) -> Any:
    """The Arrow schema of an index's table (the on-disk format: change with care)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("source", pa.string()),
            ("doc_id", pa.string()),
            ("chunk_index", pa.int32()),
            ("text", pa.string()),
            ("title", pa.string()),
            ("kind", pa.string()),
            ("section", pa.string()),
            ("start_line", pa.int32()),
            ("end_line", pa.int32()),
            ("start_char", pa.int32()),
            ("end_char", pa.int32()),
            ("metadata", pa.string()),
            ("hash", pa.string()),
            ("keywords", pa.list_(pa.string())),
            ("keywords_text", pa.string()),
            ("fts", pa.string()),
            ("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def arrow_rows(
    chunks: list[Chunk],
    texts: list[str],
    hashes: list[str],
    kws: list[list[str]],
    vecs: np.ndarray,
    dim: int,
) -> Any:
    """The chunks as an Arrow table in `chunk_schema(dim)` (`texts` as embedded)."""
    import numpy as np
    import pyarrow as pa

    rows = {
        "id": [f"{c.source}#{c.chunk_index}" for c in chunks],
        "source": [c.source for c in chunks],
        "doc_id": [c.doc_id for c in chunks],
        "chunk_index": [c.chunk_index for c in chunks],
        "text": [c.text for c in chunks],
        "title": [c.title for c in chunks],
        "kind": [c.kind for c in chunks],
        "section": [c.section for c in chunks],
        "start_line": [c.start_line for c in chunks],
        "end_line": [c.end_line for c in chunks],
        "start_char": [c.start_char for c in chunks],
        "end_char": [c.end_char for c in chunks],
        "metadata": [json.dumps(c.metadata, sort_keys=True, default=str) for c in chunks],
        "hash": hashes,
        "keywords": kws,
        "keywords_text": [" ".join(k) for k in kws],
        "fts": texts,  # title + text, as embedded
    }
    schema = chunk_schema(dim)
    arrays = [pa.array(rows[f.name], type=f.type) for f in schema if f.name != "vector"]
    flat = pa.array(np.ascontiguousarray(vecs).reshape(-1), type=pa.float32())
    arrays.append(pa.FixedSizeListArray.from_arrays(flat, dim))
    return pa.Table.from_arrays(arrays, schema=schema)


def delete_sources(tbl: Any, sources: Iterable[str], *, count: bool = False) -> int:
    """Delete the rows of `sources`; with `count`, return how many there were."""
    if tbl is None:
        return 0
    sources = list(sources)
    n = 0
    for i in range(0, len(sources), 200):
        part = sources[i : i + 200]
        cond = "source IN (" + ", ".join("'" + s.replace("'", "''") + "'" for s in part) + ")"
        if count:
            before = tbl.count_rows(cond)
            if before:
                tbl.delete(cond)
                n += before
        else:
            tbl.delete(cond)
    return n


def build_fts(tbl: Any, *, keywords: bool) -> None:
    """(Re)build the BM25 full-text indexes: over `fts`, and over the keywords if kept."""
    import lancedb

    tbl.create_index("fts", config=lancedb.index.FTS(), replace=True)
    if keywords:
        tbl.create_index("keywords_text", config=lancedb.index.FTS(), replace=True)
