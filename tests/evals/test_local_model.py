"""Integration: the runner on the real embedded model (SmolLM2 via llama.cpp)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forgekit.evals import evaluate, load_suite

ROOT = Path(__file__).parents[2]


@pytest.mark.integration
def test_main_suite_on_the_local_model(local_gateway, tmp_path: Path) -> None:
    suite = load_suite(ROOT / "evals" / "main.yaml")
    res = evaluate(suite, local_gateway, out_dir=tmp_path / "o", limit=2, progress=False)
    df = res.df
    assert df.height == 4 and set(df["status"]) == {"completed"}
    assert all(df["output_tokens"] > 0) and all(df["answer"].str.len_chars() > 0)
    assert df["score"].is_not_null().all()
    s = res.summary()
    assert s["solver"].to_list() == ["plain", "worked-examples"]
    traj = [json.loads(x) for x in Path(df["trajectory"][0]).read_text().splitlines()]
    calls = [e for e in traj if e.get("type") == "model_call"]
    assert len(calls) == 1 and calls[0]["alias"] == "local" and calls[0]["text"]
