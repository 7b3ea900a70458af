"""forgekit: build, run and evaluate LLM agents and RAG pipelines from a notebook.

The names a notebook user types are exported here and imported lazily, so that
`import forgekit` stays fast (heavy libraries load where they are used).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Gateway": "forgekit.models",
    "Message": "forgekit.core",
    "Sample": "forgekit.core",
    "Answer": "forgekit.core",
    "Score": "forgekit.core",
    "RunContext": "forgekit.core",
    "load_config": "forgekit.core",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'forgekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = ["__version__", *_EXPORTS]
