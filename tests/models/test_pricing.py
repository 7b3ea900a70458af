"""Pricing: litellm is told the price of models its map lacks, never of models it knows."""

from __future__ import annotations

import pytest

from forgekit.core.config import AliasConfig, Price
from forgekit.core.messages import Usage
from forgekit.models import Gateway
from forgekit.models.pricing import cost_of, litellm_module, per_token_rates, tell_litellm_price


def test_an_unknown_model_gets_the_alias_price_in_litellm():
    litellm = litellm_module()
    cfg = AliasConfig(
        model="openai/forgekit-test-unpriced-a", price=Price(input_per_1k=2, output_per_1k=4)
    )
    assert "openai/forgekit-test-unpriced-a" not in litellm.model_cost
    tell_litellm_price(cfg)
    inp, out = litellm.cost_per_token(
        model="openai/forgekit-test-unpriced-a", prompt_tokens=1000, completion_tokens=1000
    )
    assert (inp, out) == pytest.approx((2.0, 4.0))
    # forgekit's own pricing is unchanged: the alias's price
    assert cost_of(cfg, Usage(input_tokens=1000, output_tokens=1000)) == pytest.approx(6.0)


def test_a_model_litellm_knows_keeps_litellm_price():
    litellm = litellm_module()
    before = dict(litellm.model_cost["gpt-4o-mini"])
    tell_litellm_price(
        AliasConfig(model="gpt-4o-mini", price=Price(input_per_1k=100, output_per_1k=100))
    )
    assert litellm.model_cost["gpt-4o-mini"] == before
    assert per_token_rates("gpt-4o-mini")[0] < 0.001


def test_a_real_call_registers_the_model_at_zero(config_for):
    # litellm prices its own responses: only its road needs telling
    cfg = config_for(model="openai/forgekit-test-unpriced-b", transport="litellm")
    with Gateway(cfg, cache=False) as gw:
        r = gw.complete("hello", model="stub", max_tokens=8)
    assert r.text and r.cost_usd == 0.0
    entry = litellm_module().model_cost["openai/forgekit-test-unpriced-b"]
    assert (entry["input_cost_per_token"], entry["output_cost_per_token"]) == (0.0, 0.0)


def test_a_model_litellm_cannot_price_is_known_without_importing_litellm():
    """A fresh process pricing a local server's model (the lean source's case) reads
    litellm's bundled map and never imports litellm (~2 s of CPU); a model the map may
    price is still left to litellm."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from forgekit.models.pricing import per_token_rates, surely_unpriced\n"
        "assert per_token_rates('openai/no-such-local-model-7b') is None\n"
        "assert per_token_rates('hosted_vllm/stub') is None\n"
        "assert 'litellm' not in sys.modules\n"
        "for m in ('openai/gpt-4o-mini', 'gpt-4o', 'openai/ft:gpt-4o-mini:org::x',\n"
        "          'hosted_vllm/Qwen/Qwen2.5-7B-Instruct'):\n"
        "    assert not surely_unpriced(m), m\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_once_litellm_is_loaded_it_decides():
    from forgekit.models.pricing import surely_unpriced

    litellm_module()
    assert not surely_unpriced("openai/no-such-local-model-7b")
    assert per_token_rates("openai/gpt-4o-mini") is not None
