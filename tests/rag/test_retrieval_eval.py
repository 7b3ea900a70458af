from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.rag import Index, evaluate_retrieval, load_beir

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "data" / "scifact"
pytestmark = pytest.mark.skipif(not SCIFACT.exists(), reason="shared SciFact data not present")


@pytest.fixture(scope="module")
def small(tmp_path_factory, embedder):
    # the dataset is read in place (CC BY-NC): never copied into the project
    ds = load_beir(SCIFACT, split="train").subset(8, distractors=16)
    work = tmp_path_factory.mktemp("scifact")
    idx = Index(
        ds.documents(),
        name="scifact",
        project_dir=work,
        embedder=embedder,
        keywords={"enabled": False},
        pii={"enabled": False},
    )
    return ds, idx


def test_evaluate_configurations_on_a_scifact_subset(small):
    ds, idx = small
    rep = evaluate_retrieval(
        idx,
        ds,
        configs={
            "vector": {"mode": "vector"},
            "bm25": {"mode": "keyword"},
            "hybrid": {"mode": "hybrid"},
        },
        k_values=(1, 10),
        keep_per_query=True,
    )
    assert [r.name for r in rep.results] == ["vector", "bm25", "hybrid"]
    names = rep.metric_names()
    assert names == ["ndcg@1", "ndcg@10", "recall@1", "recall@10", "mrr", "map"]
    for r in rep.results:
        assert r.queries == 8 and len(r.per_query) == 8
        assert all(0.0 <= v <= 1.0 for v in r.metrics.values())
        # on ~60 documents the claims are easy: anything broken scores far lower
        assert r.metrics["ndcg@10"] > 0.5, r
        assert r.metrics["recall@10"] >= r.metrics["recall@1"]
    md = rep.to_markdown()
    assert md.splitlines()[0].startswith("| config | ndcg@1 | ndcg@10")
    assert "<table>" in rep._repr_html_()


@pytest.mark.slow
def test_results_go_to_mlflow(small, tmp_path):
    ds, idx = small
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    rep = evaluate_retrieval(
        idx, ds, configs={"hybrid": {}}, k_values=(10,), max_queries=4, mlflow_uri=uri
    )
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("forgekit-rag")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1 and runs[0].info.run_name == "hybrid"
    assert runs[0].data.metrics["ndcg_at_10"] == pytest.approx(rep.results[0].metrics["ndcg@10"])
