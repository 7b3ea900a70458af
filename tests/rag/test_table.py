"""The LanceDB table helpers: finding a table without LanceDB's deprecated `table_names`."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

from forgekit.rag.table import connect, has_table


def test_has_table_on_a_real_lancedb_without_deprecation_warnings(tmp_path):
    db = connect(tmp_path / "lancedb")
    db.create_table("chunks", data=[{"x": 1}])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert has_table(db, "chunks")
        assert not has_table(db, "memory")


def test_has_table_reads_every_page():
    pages = {None: (["a", "b"], "p2"), "p2": (["c"], None)}
    asked: list[str | None] = []

    class Paged:
        def list_tables(self, page_token=None):
            asked.append(page_token)
            tables, token = pages[page_token]
            return SimpleNamespace(tables=tables, page_token=token)

    assert has_table(Paged(), "c") and asked == [None, "p2"]
    asked.clear()
    assert not has_table(Paged(), "z") and asked == [None, "p2"]
    asked.clear()
    assert has_table(Paged(), "a") and asked == [None]
