from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from forgekit.cli.main import main
from tests.waiting import wait_for


def test_rag_index_and_search_commands(docs_dir, tmp_path, capsys):
    proj = str(tmp_path / "proj")
    assert (
        main(
            ["rag", "index", str(docs_dir), "--name", "cli", "--project-dir", proj, "--no-keywords"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "index 'cli':" in out and "added 4" in out and "pii filtered: EMAIL=1" in out
    assert (
        main(
            ["rag", "index", str(docs_dir), "--name", "cli", "--project-dir", proj, "--no-keywords"]
        )
        == 0
    )
    assert "added 0, updated 0, removed 0, embedded 0" in capsys.readouterr().out
    assert (
        main(
            [
                "rag",
                "search",
                "replay a run",
                "--name",
                "cli",
                "--project-dir",
                proj,
                "-k",
                "1",
                "--json",
                "--filters",
                '{"kind": "python"}',
            ]
        )
        == 0
    )
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 1 and hits[0]["source"] == "tool.py"
    assert set(hits[0]["scores"]) == {"vector", "keyword", "fused"}


def test_rag_search_on_a_missing_index_is_a_clear_error(tmp_path, capsys):
    code = main(["rag", "search", "x", "--name", "nope", "--project-dir", str(tmp_path)])
    assert code == 2
    assert "no index named 'nope'" in capsys.readouterr().err


def test_rag_eval_on_a_tiny_beir_folder(tmp_path, capsys):
    d = tmp_path / "beir"
    (d / "qrels").mkdir(parents=True)
    docs = {
        "d1": "Aspirin lowers fever in adults.",
        "d2": "Glaciers melt as climate warms.",
        "d3": "Vitamin D supports bone health.",
    }
    (d / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n" for k, v in docs.items())
    )
    (d / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "fever medicine"}\n{"_id": "q2", "text": "ice melting"}\n'
    )
    (d / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    code = main(
        [
            "rag",
            "eval",
            str(d),
            "--project-dir",
            str(tmp_path / "p"),
            "--no-keywords",
            "--configs",
            "vector,bm25,hybrid",
            "-k",
            "1,3",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "| config | ndcg@1 | ndcg@3 | recall@1 | recall@3 | mrr | map |"
    vector = lines[2].split("|")
    assert vector[1].strip() == "vector" and float(vector[2]) == 1.0
    assert (
        main(["rag", "eval", str(d), "--project-dir", str(tmp_path / "p"), "--configs", "nope"])
        == 2
    )


@pytest.mark.slow
def test_cli_rag_index_watch_follows_and_stops_on_sigterm(docs_dir: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "forgekit.cli.main", "rag", "index", str(docs_dir), "--watch",
         "--no-keywords", "--debounce", "0.3", "--project-dir", str(tmp_path / "p")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    lines: list[str] = []

    def pump() -> None:
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        wait_for(lambda: any(line.startswith("watching ") for line in lines), 120, "watching")
        (docs_dir / "new.md").write_text("# New\n\nA page that lands while watched.\n")
        wait_for(lambda: any("added 1, updated 0, removed 0" in line for line in lines),
                 60, "the update line")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = "".join(lines)
    # the catch-up at start (nothing changed), then the one for new.md
    assert "stopped watching; 2 update(s), 0 error(s)" in out, out
