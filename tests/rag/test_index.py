from __future__ import annotations

import json

import pytest

from forgekit.core.errors import ConfigError, DataError
from forgekit.rag import Index
from forgekit.rag.checkpoint import IndexCheckpoint


def _kw_off(**kw):
    return {"keywords": {"enabled": False}, **kw}


def table_state(idx):
    return sorted((r["id"], r["hash"]) for r in idx.chunks())


def test_incremental_update_touches_only_changed_sources(docs_dir, tmp_path, embedder):
    idx = Index(docs_dir, name="docs", project_dir=tmp_path / "p", embedder=embedder, **_kw_off())
    first = idx.last_update
    assert sorted(first.added) == ["guide/install.md", "guide/search.md", "notes.txt", "tool.py"]
    ids = {r["id"] for r in idx.chunks()}
    assert {"guide/install.md#0", "guide/install.md#1", "tool.py#1"} <= ids
    assert len(ids) == len(idx) == first.chunks_written

    # nothing changed: nothing is touched
    again = idx.update()
    assert not again.changed and again.unchanged == 4 and again.embedded == 0

    # edit one, add one, delete one
    (docs_dir / "guide" / "search.md").write_text(
        "# Search\n\nKeyword search uses BM25 over the title and text of chunks.\n\n## Filters\n\nFilter by source or kind.\n"
    )
    (docs_dir / "new.md").write_text("# New\n\nA brand new page about budgets.\n")
    (docs_dir / "notes.txt").unlink()
    rep = idx.update()
    assert rep.updated == ["guide/search.md"]
    assert rep.added == ["new.md"]
    assert rep.removed == ["notes.txt"]
    assert rep.unchanged == 2
    assert rep.embedded == 3  # two search.md sections + new.md; nothing else re-embedded

    # the table is exactly what a fresh build of the same folder gives
    fresh = Index(
        docs_dir, name="fresh", project_dir=tmp_path / "p", embedder=embedder, **_kw_off()
    )
    assert table_state(idx) == table_state(fresh)
    assert fresh.last_update.embedded == 0  # the shared cache had every vector
    assert idx.sources() == fresh.sources()
    assert not any(r["source"] == "notes.txt" for r in idx.chunks())


def test_interrupted_update_resumes_without_duplicates(docs_dir, tmp_path, embedder, monkeypatch):
    for i in range(6):
        (docs_dir / f"page{i}.md").write_text(f"# Page {i}\n\nText of page number {i}.\n")
    idx = Index(
        docs_dir,
        name="crash",
        project_dir=tmp_path / "p",
        embedder=embedder,
        build=False,
        batch_sources=3,
        **_kw_off(),
    )
    real_save = IndexCheckpoint.save
    calls = {"n": 0}

    def crashing_save(self, ck):
        # crash after the second batch was written to the table, before its checkpoint
        if len(ck["sources"]) >= 6:
            calls["n"] += 1
            raise KeyboardInterrupt("simulated crash")
        real_save(self, ck)

    monkeypatch.setattr(IndexCheckpoint, "save", crashing_save)
    with pytest.raises(KeyboardInterrupt):
        idx.update()
    assert calls["n"] == 1
    assert len(idx.sources()) == 3  # the first batch was checkpointed
    monkeypatch.setattr(IndexCheckpoint, "save", real_save)

    rep = Index(
        docs_dir,
        name="crash",
        project_dir=tmp_path / "p",
        embedder=embedder,
        batch_sources=3,
        **_kw_off(),
    ).last_update
    assert len(rep.added) == 7 and rep.unchanged == 3
    resumed = Index(None, name="crash", project_dir=tmp_path / "p", embedder=embedder, **_kw_off())
    ids = [r["id"] for r in resumed.chunks()]
    assert len(ids) == len(set(ids))  # no duplicate chunks
    fresh = Index(
        docs_dir,
        name="fresh2",
        project_dir=tmp_path / "p",
        embedder=embedder,
        batch_sources=3,
        **_kw_off(),
    )
    assert table_state(resumed) == table_state(fresh)
    # full-text search works after the resume (the FTS index was rebuilt)
    assert resumed.search("page number 5", mode="keyword", k=1)[0].source == "page5.md"


def test_search_modes_filters_threshold_and_component_scores(docs_dir, tmp_path, embedder):
    idx = Index(docs_dir, name="s", project_dir=tmp_path / "p", embedder=embedder, **_kw_off())
    hyb = idx.search("reciprocal rank fusion of BM25 and vectors", k=3)
    top = hyb[0]
    assert top.source == "guide/search.md"
    assert set(top.scores) == {"vector", "keyword", "fused"}
    assert top.ranks == {"vector": 1, "keyword": 1}
    assert top.span == "guide/search.md:1-3"
    vec = idx.search("how do I install it without internet", mode="vector", k=2)
    assert vec[0].section == "Install > Offline" and set(vec[0].scores) == {"vector"}
    kw = idx.search("replay", mode="keyword", k=5)
    assert kw[0].source == "tool.py" and kw[0].section == "def replay"
    only_py = idx.search("install", k=5, filters={"kind": "python"})
    assert only_py and all(h.kind == "python" for h in only_py)
    assert idx.search("install", k=5, where="source = 'notes.txt'")[0].source == "notes.txt"
    assert idx.search("install", mode="vector", k=5, threshold=0.99) == []
    html = hyb._repr_html_()
    assert "guide/search.md:1-3" in html and "fused=" in html
    # weights move the fusion: all-vector weight reproduces the vector order
    v_only = idx.search("budget limit", k=4, keyword_weight=0.0)
    assert [h.id for h in v_only] == [h.id for h in idx.search("budget limit", k=4, mode="vector")]


def test_pii_is_filtered_before_storage_and_audit_keeps_counts_only(docs_dir, tmp_path, embedder):
    idx = Index(docs_dir, name="pii", project_dir=tmp_path / "p", embedder=embedder, **_kw_off())
    notes = [r for r in idx.chunks() if r["source"] == "notes.txt"]
    assert notes[0]["text"] == "Contact the maintainer at [EMAIL] for access."
    assert idx.last_update.pii_hits == {"EMAIL": 1}
    raw = (idx.meta_dir / "audit.jsonl").read_text()
    assert "maint@example.com" not in raw
    recs = [json.loads(line) for line in raw.splitlines()]
    assert recs[0]["op"] == "index" and recs[0]["pii_hits"] == {"EMAIL": 1}
    assert set(recs[0]["added"]) == {"guide/install.md", "guide/search.md", "notes.txt", "tool.py"}
    assert "who" in recs[0] and "ts" in recs[0]
    # nothing anywhere in the stored table holds the address
    for path in (tmp_path / "p").rglob("*"):
        if path.is_file():
            assert b"maint@example.com" not in path.read_bytes(), path


def test_documents_metadata_filters_and_config_change_rebuilds(tmp_path, embedder):
    docs = [
        {"_id": "1", "title": "Aspirin", "text": "Aspirin reduces fever.", "year": 2001},
        {"_id": "2", "title": "Coffee", "text": "Coffee contains caffeine.", "year": 2010},
    ]
    idx = Index(docs, name="d", project_dir=tmp_path, embedder=embedder, **_kw_off())
    hits = idx.search("fever medicine", k=2)
    assert hits[0].doc_id == "1" and hits[0].title == "Aspirin"
    assert hits[0].metadata == {"year": 2001}
    assert [h.doc_id for h in idx.search("fever", k=2, filters={"year": 2010})] == ["2"]
    idx2 = Index(
        docs,
        name="d",
        project_dir=tmp_path,
        embedder=embedder,
        chunking={"chunk_size": 50, "overlap": 5},
        **_kw_off(),
    )
    assert idx2.last_update.added == ["1", "2"]  # new chunking: rebuilt, not mixed
    assert len(idx2) == 2
    with pytest.raises(DataError, match="duplicate"):
        Index(
            [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}],
            project_dir=tmp_path,
            embedder=embedder,
            build=False,
        )
    with pytest.raises(ConfigError, match="no such file"):
        Index(tmp_path / "missing", project_dir=tmp_path, embedder=embedder)


def test_keybert_keywords_are_stored_and_boost_search(tmp_path, embedder):
    docs = [
        {
            "id": "a",
            "text": "Mitochondria produce ATP through oxidative phosphorylation "
            "in eukaryotic cells.",
        },
        {"id": "b", "text": "Glaciers retreat as global temperatures rise each decade."},
    ]
    idx = Index(docs, name="kw", project_dir=tmp_path, embedder=embedder, keywords={"top_n": 3})
    rows = {r["doc_id"]: r for r in idx.chunks()}
    assert len(rows["a"]["keywords"]) == 3
    assert any(k in rows["a"]["keywords"] for k in ("mitochondria", "phosphorylation", "atp"))
    hits = idx.search("energy in cells", k=2, keywords_weight=1.0, expand_query=True)
    assert hits[0].doc_id == "a"
    assert "keywords" in hits[0].scores or "keyword" in hits[0].scores
    # keywords are cached with the vectors: a second index recomputes nothing
    again = Index(docs, name="kw2", project_dir=tmp_path, embedder=embedder, keywords={"top_n": 3})
    assert again.last_update.embedded == 0
    assert {r["doc_id"]: r["keywords"] for r in again.chunks()} == {
        d: r["keywords"] for d, r in rows.items()
    }


def test_a_projects_datasets_folder_does_not_confuse_lancedb(tmp_path, embedder, monkeypatch):
    import sys
    import types

    # `import datasets` from a project root with a datasets/ folder gives a namespace
    # package; LanceDB would take it for Hugging Face datasets and fail on add()
    monkeypatch.setitem(sys.modules, "datasets", types.ModuleType("datasets"))
    idx = Index(
        ["some text to index"], name="ns", project_dir=tmp_path, embedder=embedder, **_kw_off()
    )
    assert len(idx) == 1
    assert "datasets" in sys.modules  # put back as it was


class RecordingEmbedder:
    """Delegates to the real model and records every call's texts."""

    def __init__(self, inner):
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.batch_size = inner.batch_size
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        return self.inner.embed(texts)


def test_a_window_is_embedded_in_one_length_sorted_pass_and_written_in_groups(
    docs_dir, tmp_path, embedder
):
    for i in range(6):
        (docs_dir / f"page{i}.md").write_text(f"# Page {i}\n\n" + "word " * (5 + 7 * i) + "\n")
    rec = RecordingEmbedder(embedder)
    idx = Index(
        docs_dir,
        name="win",
        project_dir=tmp_path / "p",
        embedder=rec,
        batch_sources=2,
        cache_path=tmp_path / "own-cache.sqlite",
        **_kw_off(),
    )
    rep = idx.last_update
    assert len(rec.calls) == 1  # one pass over all new chunks, not one per write group
    assert [len(t) for t in rec.calls[0]] == sorted(len(t) for t in rec.calls[0])
    assert rep.embedded == len(rec.calls[0]) == len(idx) == rep.chunks_written
    recs = [json.loads(line) for line in (idx.meta_dir / "audit.jsonl").read_text().splitlines()]
    assert len(recs) == 5 and all(len(r["added"]) == 2 for r in recs)  # 10 sources, groups of 2
    assert sum(r["embedded"] for r in recs) == rep.embedded
    # window_chunks bounds a pass: smaller windows, more (still sorted) passes
    rec2 = RecordingEmbedder(embedder)
    Index(
        docs_dir,
        name="win2",
        project_dir=tmp_path / "p",
        embedder=rec2,
        window_chunks=4,
        cache_path=tmp_path / "other-cache.sqlite",
        **_kw_off(),
    )
    assert len(rec2.calls) > 1 and sum(map(len, rec2.calls)) == len(rec.calls[0])


def test_interrupted_group_is_cleaned_up_even_if_its_files_change_back_or_vanish(
    docs_dir, tmp_path, embedder, monkeypatch
):
    for i in range(6):
        (docs_dir / f"page{i}.md").write_text(f"# Page {i}\n\nText of page number {i}.\n")
    kw = dict(project_dir=tmp_path / "p", embedder=embedder, batch_sources=3, **_kw_off())
    idx = Index(docs_dir, name="crash2", **kw)
    before = table_state(idx)
    # change every page, then crash after the second group's rows are in the table
    for i in range(6):
        (docs_dir / f"page{i}.md").write_text(
            f"# Page {i}\n\nNew text {i}.\n\n## More\n\nAnd more.\n"
        )
    real_save = IndexCheckpoint.save
    saves = {"n": 0}

    def crashing_save(self, ck):
        saves["n"] += 1
        if saves["n"] == 3:  # 1: fts_dirty marker, 2: first group, 3: second group
            raise KeyboardInterrupt("simulated crash")
        real_save(self, ck)

    monkeypatch.setattr(IndexCheckpoint, "save", crashing_save)
    with pytest.raises(KeyboardInterrupt):
        idx.update()
    monkeypatch.setattr(IndexCheckpoint, "save", real_save)
    ck = idx.sources()
    rows = {r["source"] for r in idx.chunks()}
    written_not_checkpointed = sorted(
        s for s in rows if s.startswith("page") and ck[s] != idx._sources().scan([])[s]
    )
    assert len(written_not_checkpointed) >= 2
    # one of those files vanishes, another goes back to the checkpointed content
    gone, back = written_not_checkpointed[:2]
    (docs_dir / gone).unlink()
    n = int(back.removeprefix("page").removesuffix(".md"))
    (docs_dir / back).write_text(f"# Page {n}\n\nText of page number {n}.\n")
    rep = Index(docs_dir, name="crash2", **kw).last_update
    assert back in rep.updated  # rewritten although its hash matches the checkpoint
    resumed = Index(None, name="crash2", **kw)
    ids = [r["id"] for r in resumed.chunks()]
    assert len(ids) == len(set(ids))
    assert not any(r["source"] == gone for r in resumed.chunks())
    fresh = Index(docs_dir, name="fresh3", **kw)
    assert table_state(resumed) == table_state(fresh)
    assert resumed.sources() == fresh.sources()
    assert [x for x in before if x[0].startswith(back)] == [
        x for x in table_state(resumed) if x[0].startswith(back)
    ]
    assert (
        not (resumed.meta_dir / "pending.json").exists()
        or json.loads((resumed.meta_dir / "pending.json").read_text()) == []
    )


def test_the_on_disk_format_is_what_older_indexes_wrote(docs_dir, tmp_path, embedder):
    """Indexes written before the index was split into modules must keep loading: the
    checkpoint's keys, the pending file and the table's columns are the format."""
    idx = Index(docs_dir, name="fmt", project_dir=tmp_path / "p", embedder=embedder, **_kw_off())
    meta = tmp_path / "p" / ".forgekit" / "rag" / "indexes" / "fmt"
    ck = json.loads((meta / "checkpoint.json").read_text())
    assert sorted(ck) == ["fingerprint", "fts_dirty", "sources", "version"]
    assert ck["version"] == 1 and ck["fts_dirty"] is False and ck["sources"] == idx.sources()
    assert json.loads((meta / "pending.json").read_text()) == []
    assert [f.name for f in idx.table.schema] == [
        "id", "source", "doc_id", "chunk_index", "text", "title", "kind", "section",
        "start_line", "end_line", "start_char", "end_char", "metadata", "hash", "keywords",
        "keywords_text", "fts", "vector",
    ]
    again = Index(docs_dir, name="fmt", project_dir=tmp_path / "p", embedder=embedder, **_kw_off())
    assert again.last_update.unchanged == len(ck["sources"]) and not again.last_update.changed
