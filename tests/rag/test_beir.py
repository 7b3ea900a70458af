from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.core.errors import DataError
from forgekit.rag.beir import load_beir, load_qrels

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "data" / "scifact"


def _write(tmp_path: Path, corpus: str, queries: str, qrels: str) -> Path:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text(corpus)
    (tmp_path / "queries.jsonl").write_text(queries)
    (tmp_path / "qrels" / "test.tsv").write_text(qrels)
    return tmp_path


def test_load_small_dataset(tmp_path):
    path = _write(
        tmp_path,
        '{"_id": "d1", "title": "T", "text": "one"}\n{"_id": "d2", "text": "two"}\n',
        '{"_id": "q1", "text": "first?"}\n',
        "query-id\tcorpus-id\tscore\nq1\td2\t1\n",
    )
    ds = load_beir(path)
    assert ds.corpus["d1"] == {"title": "T", "text": "one"}
    assert ds.corpus["d2"]["title"] == ""
    assert ds.qrels == {"q1": {"d2": 1}}
    assert ds.documents()[0] == {"id": "d1", "title": "T", "text": "one"}


def test_malformed_rows_name_file_and_line(tmp_path):
    path = _write(
        tmp_path,
        '{"_id": "d1", "text": "ok"}\n{"_id": "d2"}\nnot json\n',
        '{"_id": "q1", "text": "x"}\n',
        "q1\td1\t1\n",
    )
    with pytest.raises(DataError) as e:
        load_beir(path)
    msg = str(e.value)
    assert "corpus.jsonl:2: missing field(s) text" in msg
    assert "corpus.jsonl:3: not JSON" in msg
    (tmp_path / "qrels" / "bad.tsv").write_text("q1\td1\n")
    with pytest.raises(DataError, match=r"bad.tsv:1: expected 3"):
        load_qrels(tmp_path / "qrels" / "bad.tsv")


@pytest.mark.skipif(not SCIFACT.exists(), reason="shared SciFact data not present")
def test_scifact_train_split_loads_whole():
    ds = load_beir(SCIFACT, split="train")
    assert len(ds.corpus) == 5183
    assert len(ds.queries) == 809
    assert sum(len(r) for r in ds.qrels.values()) == 919
    sub = ds.subset(5, distractors=10)
    assert len(sub.queries) == 5 and len(sub.corpus) <= 5 * 4 + 10
    assert all(d in sub.corpus for r in sub.qrels.values() for d in r)
