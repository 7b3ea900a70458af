"""The environment's secret values, cached briefly for the gateway's hot path.

`forgekit.core.redact.secret_values()` reads the whole environment; doing that for every
call would be most of the gateway's own CPU cost. The list is re-read at most every
`TTL_S` seconds; key-shaped strings (``sk-...``) are caught by shape regardless.
"""

from __future__ import annotations

import time

from forgekit.core.redact import secret_values

TTL_S = 0.5
_cached: tuple[float, list[str]] = (float("-inf"), [])


def current_secrets() -> list[str]:
    """Secret values of the environment, at most `TTL_S` seconds old."""
    global _cached
    now = time.monotonic()
    if now - _cached[0] > TTL_S:
        _cached = (now, secret_values())
    return _cached[1]
