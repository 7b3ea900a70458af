"""forgekit.models: the gateway over litellm and a lean OpenAI-compatible source (aliases,
local server, budgets, cache, retries, adaptive concurrency).

Importing this package is cheap: litellm and llama.cpp load on the first real call.
"""

from forgekit.models.budget import Budget
from forgekit.models.cache import ResponseCache, cache_key
from forgekit.models.circuit import CircuitBreaker
from forgekit.models.concurrency import AdaptiveLimit
from forgekit.models.direct import DirectSource
from forgekit.models.gateway import Gateway
from forgekit.models.local_server import LocalServer
from forgekit.models.model import Model, default_gateway
from forgekit.models.retry import RetryPolicy
from forgekit.models.sources import (
    CompletionRequest,
    CompletionSource,
    LiteLLMSource,
    ScriptedSource,
)

__all__ = [
    "AdaptiveLimit",
    "Budget",
    "CircuitBreaker",
    "CompletionRequest",
    "CompletionSource",
    "DirectSource",
    "Gateway",
    "LiteLLMSource",
    "LocalServer",
    "Model",
    "ResponseCache",
    "RetryPolicy",
    "ScriptedSource",
    "cache_key",
    "default_gateway",
]
