"""Evaluate index search configurations on a BEIR-format dataset: nDCG@k, recall@k, MRR
and MAP per configuration, as a table; optionally logged to MLflow."""

from __future__ import annotations

import html
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from forgekit.rag.beir import BeirDataset, load_beir
from forgekit.rag.metrics import average_precision, mrr, ndcg_at_k, recall_at_k
from forgekit.rag.search import SearchConfig

if TYPE_CHECKING:
    from forgekit.rag.index import Index

# the configurations `forgekit rag eval` compares by default (see docs/rag.md for the
# measured contribution of each)
STANDARD_CONFIGS: dict[str, dict[str, Any]] = {
    "vector": {"mode": "vector"},
    "bm25": {"mode": "keyword"},
    # plain reciprocal rank fusion 1:1, as LanceDB's hybrid search with RRFReranker
    "hybrid-rrf": {"mode": "hybrid", "fusion": "rrf", "vector_weight": 1.0, "keyword_weight": 1.0},
    # score fusion with the default weights
    "hybrid": {"mode": "hybrid", "fusion": "score", "vector_weight": 0.6, "keyword_weight": 0.4},
    "hybrid+keywords": {
        "mode": "hybrid",
        "fusion": "score",
        "vector_weight": 0.6,
        "keyword_weight": 0.4,
        "keywords_weight": 0.2,
        "expand_query": True,
    },
}


class ConfigResult(BaseModel):
    """Mean metrics of one configuration."""

    name: str
    config: dict[str, Any]
    metrics: dict[str, float]
    queries: int
    seconds: float
    per_query: dict[str, dict[str, float]] = Field(default_factory=dict, repr=False)


class RetrievalReport(BaseModel):
    """The metrics table of an evaluation."""

    dataset: str
    k_values: list[int]
    results: list[ConfigResult]

    def metric_names(self) -> list[str]:
        return list(self.results[0].metrics) if self.results else []

    def best(self, metric: str = "ndcg@10") -> ConfigResult:
        return max(self.results, key=lambda r: r.metrics.get(metric, 0.0))

    def to_markdown(self, digits: int = 3) -> str:
        names = self.metric_names()
        lines = ["| config | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for r in self.results:
            lines.append(
                f"| {r.name} | " + " | ".join(f"{r.metrics[m]:.{digits}f}" for m in names) + " |"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return f"RetrievalReport({self.dataset})\n{self.to_markdown()}"

    def _repr_html_(self) -> str:
        names = self.metric_names()
        head = "".join(f"<th>{html.escape(m)}</th>" for m in names)
        rows = "".join(
            f"<tr><td>{html.escape(r.name)}</td>"
            + "".join(f"<td>{r.metrics[m]:.3f}</td>" for m in names)
            + "</tr>"
            for r in self.results
        )
        return (
            f"<div><b>Retrieval evaluation</b> on {html.escape(self.dataset)}<table>"
            f"<thead><tr><th>config</th>{head}</tr></thead><tbody>{rows}</tbody>"
            "</table></div>"
        )

    def log_mlflow(
        self, *, tracking_uri: str | None = None, experiment: str = "forgekit-rag"
    ) -> list[str]:
        """One MLflow run per configuration (params = the config, metrics = the table).

        Returns:
            The MLflow run ids.
        """
        import os

        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        os.environ.setdefault("DO_NOT_TRACK", "1")
        import mlflow

        # mlflow.set_tracking_uri also sets MLFLOW_TRACKING_URI in the environment: restore
        # both, so this call does not redirect every later MLflow use of the process
        previous_uri = mlflow.get_tracking_uri()
        previous_env = os.environ.get("MLFLOW_TRACKING_URI")
        if tracking_uri:
            mlflow.set_tracking_uri(tracking_uri)
        try:
            mlflow.set_experiment(experiment)
            ids = []
            for r in self.results:
                with mlflow.start_run(run_name=r.name) as run:
                    mlflow.log_params(
                        {"dataset": self.dataset, **{k: str(v) for k, v in r.config.items()}}
                    )
                    mlflow.log_metrics(
                        {m.replace("@", "_at_"): v for m, v in r.metrics.items()}
                    )
                    ids.append(run.info.run_id)
            return ids
        finally:
            if tracking_uri:
                mlflow.set_tracking_uri(previous_uri)
                if previous_env is None:
                    os.environ.pop("MLFLOW_TRACKING_URI", None)
                else:
                    os.environ["MLFLOW_TRACKING_URI"] = previous_env


def evaluate_queries(
    index: Index,
    dataset: BeirDataset,
    cfg: SearchConfig,
    k_values: list[int],
    query_vectors: Mapping[str, Any],
    *,
    progress: Any = None,
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Mean metrics and per-query metrics of one search config (`progress.update(1)` per
    query when a progress bar is given)."""
    depth = max(k_values)
    cfg = cfg.model_copy(
        update={"k": depth, "group_by_doc": True, "candidates": max(cfg.candidates, depth)}
    )
    per_query: dict[str, dict[str, float]] = {}
    for qid, rel in dataset.qrels.items():
        text = dataset.queries[qid]
        hits = index.search(text, config=cfg, vector=query_vectors.get(qid))
        if progress is not None:
            progress.update(1)
        ranked = [h.doc_id for h in hits]
        m: dict[str, float] = {}
        for k in k_values:
            m[f"ndcg@{k}"] = ndcg_at_k(ranked, rel, k)
        for k in k_values:
            m[f"recall@{k}"] = recall_at_k(ranked, rel, k)
        m["mrr"] = mrr(ranked, rel, depth)
        m["map"] = average_precision(ranked, rel, depth)
        per_query[qid] = m
    names = next(iter(per_query.values())).keys() if per_query else []
    mean = {n: sum(q[n] for q in per_query.values()) / len(per_query) for n in names}
    return mean, per_query


def evaluate_retrieval(
    index: Index,
    dataset: BeirDataset | str,
    *,
    configs: Mapping[str, SearchConfig | dict[str, Any]] | None = None,
    k_values: tuple[int, ...] | list[int] = (1, 5, 10),
    split: str = "test",
    max_queries: int | None = None,
    mlflow_uri: str | None = None,
    keep_per_query: bool = False,
) -> RetrievalReport:
    """Evaluate search configurations of an index against BEIR relevance judgments.

    Documents are ranked by their best chunk (max-pooling), so chunked documents are
    judged as whole documents, as the qrels are.

    Args:
        index: an index built over the dataset's corpus (document ids = corpus ids).
        dataset: a BeirDataset or the folder of one.
        configs: name -> SearchConfig (or overrides of the index's default search config);
            default: vector, bm25, hybrid-rrf, hybrid, hybrid+keywords and the index
            default.
        k_values: cut-offs for nDCG and recall (MRR and MAP use the largest).
        split: qrels split when `dataset` is a folder.
        max_queries: evaluate only the first n judged queries.
        mlflow_uri: also log one MLflow run per configuration there.
        keep_per_query: keep each query's metrics in the report.

    Returns:
        A RetrievalReport (prints as a Markdown table, renders as HTML).
    """
    ds = load_beir(dataset, split=split) if isinstance(dataset, str) else dataset
    if max_queries is not None:
        ds = BeirDataset(
            corpus=ds.corpus,
            queries=ds.queries,
            qrels=dict(list(ds.qrels.items())[:max_queries]),
            path=ds.path,
            split=ds.split,
        )
    base = index.config.search
    chosen: dict[str, SearchConfig] = {}
    for name, c in (configs or {**STANDARD_CONFIGS, "default": {}}).items():
        chosen[name] = (
            c if isinstance(c, SearchConfig) else SearchConfig(**{**base.model_dump(), **c})
        )
    from forgekit.rag.embedding import embed_with_cache

    qids = list(ds.qrels)
    vecs, _ = embed_with_cache(index.embedder, [ds.queries[q] for q in qids], index.cache)
    qv = dict(zip(qids, vecs, strict=True))
    results = []
    from forgekit.core.progress import Progress

    bar = Progress("queries evaluated", total=len(qids) * len(chosen), unit="query", delay_s=2.0)
    for name, cfg in chosen.items():
        t0 = time.perf_counter()
        bar.set_description(f"queries evaluated ({name})")
        mean, per_q = evaluate_queries(index, ds, cfg, list(k_values), qv, progress=bar)
        results.append(
            ConfigResult(
                name=name,
                config=cfg.model_dump(exclude_defaults=True),
                metrics=mean,
                queries=len(per_q),
                seconds=time.perf_counter() - t0,
                per_query=per_q if keep_per_query else {},
            )
        )
    bar.close()
    label = f"{ds.path.name if ds.path else 'dataset'}/{ds.split}"
    report = RetrievalReport(dataset=label, k_values=list(k_values), results=results)
    if mlflow_uri:
        report.log_mlflow(tracking_uri=mlflow_uri)
    return report
