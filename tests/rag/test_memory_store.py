"""The memory store: composite scoring on real LanceDB tables with the packaged
embedding model; scopes; PII on write; persistence."""

from __future__ import annotations

import pytest

from forgekit.rag.memory_store import (
    DAY_S,
    MemoryConfig,
    MemoryScope,
    MemoryStore,
    composite_score,
    recency_decay,
)

NOW = 1_800_000_000.0


def test_recency_decay_and_composite_score():
    assert recency_decay(0, 10) == 1.0
    assert recency_decay(10, 10) == pytest.approx(0.5)
    assert recency_decay(30, 10) == pytest.approx(0.125)
    cfg = MemoryConfig()
    score, rec = composite_score(0.8, cfg.half_life_s, 0.4, cfg)
    assert rec == pytest.approx(0.5)
    assert score == pytest.approx(0.5 * 0.8 + 0.3 * 0.5 + 0.2 * 0.4)
    with pytest.raises(ValueError, match="at least one"):
        MemoryConfig(w_semantic=0, w_recency=0, w_importance=0)


def test_scope_visibility_filter():
    s = MemoryScope(project="p", agent="a", session="s1")
    assert s.visible() == (
        "project = 'p' AND (agent = '' OR agent = 'a') AND (session = '' OR session = 's1')"
    )
    assert MemoryScope(project="o'k").visible().startswith("project = 'o''k'")
    assert s.at("agent") == MemoryScope(project="p", agent="a")
    with pytest.raises(ValueError, match="needs a scope with a session"):
        MemoryScope(project="p").at("session")


@pytest.fixture
def store(tmp_path, embedder):
    return MemoryStore("notes", project_dir=tmp_path, embedder=embedder)


def test_search_ranks_by_the_composite_score(store):
    a = MemoryScope(project="p", agent="a")
    store.add("The user prefers metric units for distances.", scope=a, importance=0.5, now=NOW)
    store.add("The deploy script lives in tools/deploy.sh.", scope=a, importance=0.5, now=NOW)
    store.add("Lunch is at noon on Fridays.", scope=a, importance=0.5, now=NOW)
    hits = store.search("which units should distances use?", scope=a, k=3, now=NOW)
    assert [h.record.text for h in hits][0].startswith("The user prefers metric units")
    cfg = store.config
    for h in hits:  # every score is exactly the documented formula of its parts
        assert h.recency == pytest.approx(1.0)
        assert h.score == pytest.approx(
            cfg.w_semantic * h.cosine + cfg.w_recency * h.recency + cfg.w_importance * h.importance
        )
    assert hits[0].cosine > hits[1].cosine


def test_recency_and_importance_break_ties(store):
    a = MemoryScope(project="p", agent="a")
    old = store.add("Backups run every night.", scope=a, importance=0.5, now=NOW - 14 * DAY_S)
    new = store.add("Backups run every night.", scope=a, importance=0.5, now=NOW)
    key = store.add("Backups run every night.", scope=a, importance=1.0, now=NOW - 14 * DAY_S)
    hits = store.search("when do backups run?", scope=a, k=3, now=NOW)
    by_id = {h.record.id: h for h in hits}
    assert by_id[old.id].recency == pytest.approx(0.25)  # two half-lives of 7 days
    assert by_id[new.id].score > by_id[old.id].score  # same text and importance: newer wins
    assert by_id[key.id].score - by_id[old.id].score == pytest.approx(0.2 * 0.5)
    weighted = MemoryStore(
        "notes", project_dir=store.project_dir, embedder=store.embedder, w_importance=5.0
    )
    assert weighted.search("when do backups run?", scope=a, k=1, now=NOW)[0].record.id == key.id


def test_scopes_nest(store):
    s1 = MemoryScope(project="p", agent="a", session="s1")
    s2 = MemoryScope(project="p", agent="a", session="s2")
    store.add("project fact: the repo uses uv", scope=MemoryScope(project="p"), now=NOW)
    store.add("agent fact: answer in French", scope=s1.at("agent"), now=NOW)
    store.add("session fact: the ticket is FK-12", scope=s1, now=NOW)
    store.add("another agent's fact", scope=MemoryScope(project="p", agent="b"), now=NOW)
    store.add("another project's fact", scope=MemoryScope(project="q"), now=NOW)

    def seen(scope):
        return {r.text.split(":")[0] for r in store.records(scope)}

    assert seen(s1) == {"project fact", "agent fact", "session fact"}
    assert seen(s2) == {"project fact", "agent fact"}
    assert seen(MemoryScope(project="p")) == {"project fact"}
    assert {h.record.level for h in store.search("fact", scope=s1, k=10)} == {
        "project",
        "agent",
        "session",
    }


def test_pii_is_filtered_on_write_and_it_persists(store, tmp_path, embedder):
    rec = store.add("Mail jane.doe@example.org about the invoice", importance=0.9)
    assert "jane" not in rec.text and "[EMAIL]" in rec.text
    assert rec.metadata["pii"] == {"EMAIL": 1}
    again = MemoryStore("notes", project_dir=tmp_path, embedder=embedder)
    assert len(again) == 1 and again.records()[0].text == rec.text
    with pytest.raises(ValueError, match="between 0 and 1"):
        store.add("x", importance=2)
