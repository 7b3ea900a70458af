"""Optional cross-encoder reranking, only with a model available locally (no downloads).

No cross-encoder ships in an installed package of forgekit's stack today; pass a local
folder (or the name of a model already in the Hugging Face cache) to use one."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_cross_encoder(name: str, device: str = "cpu") -> Any:
    """A `sentence_transformers.CrossEncoder` from a local path or the offline HF cache.

    Raises:
        ConfigError: when the model is not available locally.
    """
    import os

    from forgekit.core.errors import ConfigError

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from sentence_transformers import CrossEncoder

        return CrossEncoder(name, device=device, local_files_only=not Path(name).exists())
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"cross-encoder {name!r} is not available locally ({type(e).__name__}); give "
            "the path of a downloaded cross-encoder folder or set rerank=None",
            key="search.rerank",
        ) from e
