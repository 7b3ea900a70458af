"""forgekit.models: the gateway over litellm (aliases, local server, budgets, cache, retries)."""

from forgekit.models.gateway import Gateway
from forgekit.models.sources import (
    CompletionRequest,
    CompletionSource,
    LiteLLMSource,
    ScriptedSource,
)

__all__ = ["CompletionRequest", "CompletionSource", "Gateway", "LiteLLMSource", "ScriptedSource"]
