"""Secret redaction: nothing that looks like an API key reaches a record, log or error."""

from __future__ import annotations

import os
import re
from typing import Any

REDACTED = "[REDACTED]"
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.I)
# well-known key shapes (OpenAI, Anthropic, Google, GitHub, AWS, HF, Slack, bearer tokens)
_SECRET_SHAPES = re.compile(
    r"(sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"
    r"|AIza[0-9A-Za-z_\-]{30,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|hf_[A-Za-z0-9]{30,}"
    r"|xox[abpr]-[A-Za-z0-9\-]{10,}"
    r"|(?<=Bearer )[A-Za-z0-9._\-]{16,})"
)
_MIN_SECRET_LEN = 8


_name_is_secret: dict[str, bool] = {}
_values_cache: dict[tuple[tuple[str, str], ...], list[str]] = {}


def _is_secret_name(name: str) -> bool:
    hit = _name_is_secret.get(name)
    if hit is None:
        hit = _name_is_secret[name] = bool(_SECRET_NAME.search(name))
    return hit


def secret_values(env: dict[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names say they hold a secret.

    Read on every call (a key set after start-up is still redacted), but the name test is
    memoised and the sorted list cached per distinct set of secrets: this runs per event.
    """
    env = os.environ if env is None else env
    items = tuple(sorted((k, v) for k, v in env.items()
                         if _is_secret_name(k) and len(v) >= _MIN_SECRET_LEN))
    vals = _values_cache.get(items)
    if vals is None:
        # longest first, so a key that contains another is replaced whole
        vals = sorted({v for _, v in items}, key=len, reverse=True)
        if len(_values_cache) > 64:
            _values_cache.clear()
        _values_cache[items] = vals
    return vals


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    """Replace secret values from the environment and key-shaped strings."""
    if not text:
        return text
    for s in secret_values() if secrets is None else secrets:
        if s in text:
            text = text.replace(s, REDACTED)
    return _SECRET_SHAPES.sub(REDACTED, text)


def redact(value: Any, secrets: list[str] | None = None) -> Any:
    """Redact every string inside a JSON-like value (dicts, lists, strings)."""
    secrets = secret_values() if secrets is None else secrets
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {k: redact(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    return value
