"""BEIR-format retrieval datasets: corpus.jsonl, queries.jsonl, qrels/<split>.tsv."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forgekit.core.errors import DataError


@dataclass
class BeirDataset:
    """A loaded BEIR dataset: documents, queries and graded judgments."""

    corpus: dict[str, dict[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    path: Path | None = None
    split: str = "test"
    extra: dict[str, Any] = field(default_factory=dict)

    def documents(self) -> list[dict[str, Any]]:
        """The corpus as documents for `Index` (id, title, text)."""
        return [
            {"id": i, "title": d.get("title", ""), "text": d.get("text", "")}
            for i, d in self.corpus.items()
        ]

    def subset(self, n_queries: int, *, distractors: int = 0, seed: int = 0) -> BeirDataset:
        """The first `n_queries` judged queries, their relevant documents and
        `distractors` other documents (picked deterministically): for small tests."""
        import random

        qids = [q for q in self.queries if q in self.qrels][:n_queries]
        keep = {d for q in qids for d in self.qrels[q]}
        others = sorted(set(self.corpus) - keep)
        random.Random(seed).shuffle(others)
        keep |= set(others[:distractors])
        return BeirDataset(
            corpus={d: self.corpus[d] for d in self.corpus if d in keep},
            queries={q: self.queries[q] for q in qids},
            qrels={q: self.qrels[q] for q in qids},
            path=self.path,
            split=self.split,
        )


def _read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    if not path.exists():
        raise DataError(f"{path}: file not found")
    rows, problems = [], []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"{path}:{n}: not JSON ({e.msg})")
                continue
            missing = [k for k in required if k not in row]
            if missing:
                problems.append(f"{path}:{n}: missing field(s) {', '.join(missing)}")
                continue
            rows.append(row)
            if len(problems) > 20:
                break
    if problems:
        raise DataError(f"{path}: {len(problems)} bad line(s)", problems=problems)
    return rows


def load_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """A BEIR qrels TSV (header `query-id corpus-id score`)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: qrels file not found")
    qrels: dict[str, dict[str, int]] = {}
    problems = []
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t"), 1):
            if n == 1 and row and row[0] == "query-id":
                continue
            if not row:
                continue
            if len(row) < 3:
                problems.append(f"{path}:{n}: expected 3 tab-separated fields, got {len(row)}")
                continue
            try:
                score = int(float(row[2]))
            except ValueError:
                problems.append(f"{path}:{n}: score {row[2]!r} is not a number")
                continue
            qrels.setdefault(row[0], {})[row[1]] = score
    if problems:
        raise DataError(f"{path}: {len(problems)} bad line(s)", problems=problems[:20])
    return qrels


def load_beir(path: str | Path, split: str = "test") -> BeirDataset:
    """Load `corpus.jsonl`, `queries.jsonl` and `qrels/<split>.tsv` from a folder.

    Raises:
        DataError: naming the file and line of every malformed row.
    """
    path = Path(path)
    corpus = {
        str(r["_id"]): {"title": r.get("title") or "", "text": r["text"]}
        for r in _read_jsonl(path / "corpus.jsonl", ("_id", "text"))
    }
    queries = {
        str(r["_id"]): r["text"] for r in _read_jsonl(path / "queries.jsonl", ("_id", "text"))
    }
    qrels = load_qrels(path / "qrels" / f"{split}.tsv")
    unknown = [f"query {q!r} in qrels is not in queries.jsonl" for q in qrels if q not in queries]
    if unknown:
        raise DataError(f"{path}: qrels name unknown queries", problems=unknown[:20])
    qrels = {q: r for q, r in qrels.items()}
    return BeirDataset(corpus=corpus, queries=queries, qrels=qrels, path=path, split=split)
