"""Call prices: the alias's override, else litellm's offline price map, else zero.

litellm is imported lazily (and told to use its bundled price map, never the network).
Unknown models cost 0.0 and are remembered, so pricing them costs nothing per call; the
gateway also tells litellm their price (`tell_litellm_price`), so that litellm's own
pricing of each response stops searching for them.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from forgekit.core.config import AliasConfig
from forgekit.core.messages import Usage

log = logging.getLogger(__name__)
_unknown: set[str] = set()
_rates: dict[str, tuple[float, float]] = {}
_told: set[str] = set()  # models whose price litellm has been given (or already had)
_lock = threading.Lock()
_price_map: dict[str, Any] | None = None  # litellm's bundled map, read without litellm
PRICE_MAP_FILE = "model_prices_and_context_window_backup.json"


def litellm_module() -> Any:
    """litellm, imported on first use with telemetry off and the offline price map."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    # litellm warns on every new event loop (each sync call in a script makes one)
    logging.getLogger("LiteLLM").setLevel(logging.ERROR)
    litellm.telemetry = False
    litellm.suppress_debug_info = True
    return litellm


def _bundled_price_map() -> dict[str, Any]:
    """litellm's offline price map (the file it reads itself, as forgekit tells it to),
    read as JSON without importing litellm (~40 ms against ~2 s); {} when not found."""
    global _price_map
    if _price_map is None:
        try:
            spec = importlib.util.find_spec("litellm")
            origin = spec.origin if spec is not None else None
            data = json.loads(Path(origin).with_name(PRICE_MAP_FILE).read_text("utf-8")) \
                if origin else {}
            _price_map = data if isinstance(data, dict) else {}
        except (OSError, ValueError, ImportError):
            _price_map = {}
    return _price_map


def surely_unpriced(model: str) -> bool:
    """True when litellm could not price `model`, decided without importing it: litellm
    is not loaded yet (so no price was registered with it), and its bundled map has no
    key that contains the model's name or is contained in it (case aside). The
    OpenAI-compatible servers the lean source calls (llama.cpp, vLLM, a test stub) serve
    such names; a cold `evaluate()` then never imports litellm (~2 s of CPU). Anything
    less certain is left to litellm."""
    if "litellm" in sys.modules:
        return False
    prices = _bundled_price_map()
    if not prices:
        return False
    full = model.lower()
    name = full.split("/", 1)[1] if "/" in full else full
    return not any(name in k or k in full for k in (key.lower() for key in prices))


def per_token_rates(model: str) -> tuple[float, float] | None:
    """(USD per input token, USD per output token) from litellm's map, or None if unknown."""
    if model in _rates:
        return _rates[model]
    if model in _unknown:
        return None
    if surely_unpriced(model):
        with _lock:
            _unknown.add(model)
        return None
    try:
        inp, out = litellm_module().cost_per_token(
            model=model, prompt_tokens=1_000_000, completion_tokens=1_000_000
        )
        rates = (float(inp) / 1e6, float(out) / 1e6)
    except Exception:  # ModelNotMappedError and friends: an unpriced model is free to us
        with _lock:
            _unknown.add(model)
        return None
    with _lock:
        _rates[model] = rates
    return rates


def known_rates() -> dict[str, Any]:
    """The per-token rates looked up so far (and the models found unpriced): what a
    worker process is given, so that it need not import litellm to price its calls."""
    with _lock:
        return {"rates": dict(_rates), "unknown": sorted(_unknown)}


def seed_rates(known: dict[str, Any]) -> None:
    """Take rates another process looked up (`known_rates`)."""
    with _lock:
        _rates.update({k: tuple(v) for k, v in known.get("rates", {}).items()})
        _unknown.update(known.get("unknown", ()))


def tell_litellm_price(cfg: AliasConfig) -> None:
    """Give litellm the price of an alias's model when its map lacks the model (a local
    llama.cpp, vLLM or Ollama server, any `openai/<name>` endpoint): the alias's `price`,
    else zero. Models litellm knows keep litellm's own price, whatever the alias says.

    Why: litellm prices every response itself (`response._hidden_params["response_cost"]`).
    For a model missing from its map it tries every spelling of the name and fails, on
    every call: about 0.3 ms of CPU a call, 7% of what a call costs through litellm
    (`benchmarks/runner`). Once registered, those lookups hit, and the cost litellm reports
    is the one forgekit records. When two aliases name the same unknown model with
    different prices, litellm keeps the first; forgekit's own cost follows each alias.
    """
    model = cfg.model
    if model in _told:
        return
    if per_token_rates(model) is None:
        inp, out = rates_for(cfg)
        provider = model.split("/", 1)[0] if "/" in model else "openai"
        entry = {
            "input_cost_per_token": inp,
            "output_cost_per_token": out,
            "litellm_provider": provider,
            "mode": "chat",
        }
        try:
            litellm_module().register_model({model: entry})
        except Exception as e:  # only a speed-up: the call works without it
            log.debug("litellm would not register %s: %s", model, e)
    with _lock:
        _told.add(model)


def rates_for(cfg: AliasConfig) -> tuple[float, float]:
    """Per-token (input, output) USD rates of an alias."""
    if cfg.price is not None:
        return cfg.price.input_per_1k / 1000.0, cfg.price.output_per_1k / 1000.0
    if cfg.embedded:
        return 0.0, 0.0
    return per_token_rates(cfg.model) or (0.0, 0.0)


def cost_of(cfg: AliasConfig, usage: Usage) -> float:
    """USD cost of a call's usage under an alias's pricing."""
    inp, out = rates_for(cfg)
    if not inp and not out:
        return 0.0
    return usage.input_tokens * inp + usage.output_tokens * out


def count_prompt_tokens(
    model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
) -> int:
    """Prompt tokens by litellm's counter; a chars/3 estimate if it fails."""
    try:
        return int(litellm_module().token_counter(model=model, messages=messages, tools=tools))
    except Exception:
        chars = sum(len(str(m.get("content") or "")) for m in messages)
        return chars // 3 + 4 * len(messages)
