from __future__ import annotations

import json

from forgekit.cli.main import main


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
