"""Secret redaction: nothing that looks like an API key reaches a record, log or error."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
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
_extra_names: set[str] = set()  # variables named as keys elsewhere (an alias's api_key_env)
_values_cache: dict[tuple[tuple[str, str], ...], list[str]] = {}
_env_snapshot: tuple[dict[Any, Any], list[str]] | None = None


def is_secret_name(name: str) -> bool:
    """True when a variable (or config field) name says it holds a secret."""
    hit = _name_is_secret.get(name)
    if hit is None:
        hit = _name_is_secret[name] = bool(_SECRET_NAME.search(name)) or name in _extra_names
    return hit


def register_secret_env(*names: str) -> None:
    """Treat these environment variables as secrets whatever their names (the gateway
    registers every alias's `api_key_env`)."""
    global _env_snapshot
    new = {n for n in names if n and n not in _extra_names}
    if new:
        _extra_names.update(new)
        for n in new:
            _name_is_secret[n] = True
        _values_cache.clear()
        _env_snapshot = None


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names say they hold a secret.

    Exact on every call (a key set after start-up is still redacted), and cheap: for
    `os.environ` the scan is redone only when the environment changed since the last call
    (a comparison of the raw environment with a copy, in C). This runs per event.
    """
    global _env_snapshot
    if env is None:
        data = getattr(os.environ, "_data", None)
        if data is not None:
            # a dict comparison: equal sizes, then each key's value by identity first
            snap = _env_snapshot
            if snap is not None and snap[0] == data:
                return snap[1]
            vals = _scan(os.environ)
            _env_snapshot = (dict(data), vals)
            return vals
        env = os.environ
    return _scan(env)


def _scan(env: Mapping[str, str]) -> list[str]:
    items = tuple(
        sorted((k, v) for k, v in env.items() if is_secret_name(k) and len(v) >= _MIN_SECRET_LEN)
    )
    vals = _values_cache.get(items)
    if vals is None:
        # longest first, so a key that contains another is replaced whole
        vals = sorted({v for _, v in items}, key=len, reverse=True)
        if len(_values_cache) > 64:
            _values_cache.clear()
        _values_cache[items] = vals
    return vals


def _may_hold_key_shape(t: str) -> bool:
    """A quick substring pre-check before the (slower) shape regex: every shape in
    `_SECRET_SHAPES` starts with one of these (unrolled: this runs per recorded line)."""
    return (
        "sk-" in t or "AIza" in t or "AKIA" in t or "hf_" in t or "Bearer " in t
        or ("gh" in t and ("ghp_" in t or "gho_" in t or "ghu_" in t or "ghs_" in t
                           or "ghr_" in t))
        or ("xox" in t and ("xoxa-" in t or "xoxb-" in t or "xoxp-" in t or "xoxr-" in t))
    )  # fmt: skip


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    """Replace secret values from the environment and key-shaped strings."""
    if not text:
        return text
    for s in secret_values() if secrets is None else secrets:
        if s in text:
            text = text.replace(s, REDACTED)
    return _SECRET_SHAPES.sub(REDACTED, text) if _may_hold_key_shape(text) else text


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


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record's message (`forgekit -v` logs request
    bodies of litellm and httpx): attach it to a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose args do not fit its format: leave it alone
            return True
        clean = redact_text(message)
        if clean != message or record.args:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


class _RedactedRecord(logging.LogRecord):
    def getMessage(self) -> str:  # noqa: N802 (logging's name)
        return redact_text(super().getMessage())


def redact_logging(logger: logging.Logger | None = None) -> None:
    """Redact every log message from now on, whatever logger or handler writes it (records
    are made redacting), and the tracebacks the handlers of `logger` (default: root) print."""
    if logging.getLogRecordFactory() is logging.LogRecord:
        logging.setLogRecordFactory(_RedactedRecord)
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
