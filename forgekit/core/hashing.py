"""Stable content hashes for configs, requests and chunks."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel


def _default(o: Any) -> Any:
    if isinstance(o, BaseModel):
        return o.model_dump(mode="json", exclude_none=True)
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    return repr(o)


# one encoder for every call (`json.dumps` with options builds a new one each time)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_default,
                              ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal text."""
    return _CANONICAL.encode(value)


def stable_hash(value: Any, length: int = 16) -> str:
    """A short sha256 of the canonical JSON of `value`."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()[:length]
