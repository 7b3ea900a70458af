"""Which failures are worth retrying, and how long to wait before the next attempt.

Retried: HTTP 429, 408 and 5xx, connection errors and timeouts. A `Retry-After` header
(seconds or an HTTP date) wins over the computed backoff, up to `max_retry_after_s`.
Everything else (400, 401, 404, a bug in a scripted source, ReplayDivergence) is not.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass
from typing import Any

from forgekit.core.errors import ForgekitError, ModelError

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
_TRANSIENT_NAMES = frozenset(
    {
        "Timeout",
        "APITimeoutError",
        "APIConnectionError",
        "ConnectError",
        "ConnectTimeout",
        "ReadTimeout",
        "ReadError",
        "RemoteProtocolError",
        "ServiceUnavailableError",
        "InternalServerError",
        "RateLimitError",
        "BadGatewayError",
        "TimeoutError",
        "ClientConnectionError",
        "ServerDisconnectedError",
        "ClientPayloadError",
        "MalformedResponseError",
    }
)


@dataclass(frozen=True)
class Failure:
    """What a failed attempt tells the gateway."""

    retryable: bool
    status: int | None
    retry_after_s: float | None
    # True when the endpoint itself looks unhealthy (counts toward its circuit breaker)
    endpoint_fault: bool


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None and isinstance(exc, ModelError):
        status = exc.status
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


def _headers(exc: BaseException) -> Any:
    h = getattr(exc, "litellm_response_headers", None)
    if h:
        return h
    resp = getattr(exc, "response", None)
    return getattr(resp, "headers", None)


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds asked for by a `Retry-After` (or `retry-after-ms`) header, if any."""
    explicit = getattr(exc, "retry_after_s", None)
    if explicit is not None:
        return float(explicit)
    headers = _headers(exc)
    if not headers:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after") or headers.get("Retry-After")
    except Exception:
        return None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def classify(exc: BaseException) -> Failure:
    """Decide whether an attempt's exception is transient."""
    if isinstance(exc, ForgekitError) and not isinstance(exc, ModelError):
        return Failure(False, None, None, False)  # budget, replay, policy: never retried
    status = status_of(exc)
    names = {c.__name__ for c in type(exc).__mro__}
    timeout_like = bool(
        names & {"Timeout", "APITimeoutError", "TimeoutError", "ReadTimeout", "ConnectTimeout"}
    )
    connection_like = bool(
        names
        & {
            "APIConnectionError",
            "ConnectError",
            "ConnectionError",
            "ClientConnectionError",
            "ServerDisconnectedError",
        }
    )
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        timeout_like = True
    if isinstance(exc, ConnectionError | OSError) and not timeout_like:
        connection_like = True
    if status is not None and status not in (408,) and not (timeout_like or connection_like):
        retryable = status in RETRY_STATUS
        fault = status >= 500
    else:
        retryable = timeout_like or connection_like or bool(names & _TRANSIENT_NAMES)
        fault = retryable
    return Failure(retryable, status, retry_after_of(exc) if retryable else None, fault)


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter: wait U(0, min(max_s, base_s * 2**attempt)).

    Attributes:
        base_s: the first backoff's upper bound.
        max_s: the cap of a computed backoff.
        max_retry_after_s: the longest `Retry-After` honoured (longer ones fail the call).
    """

    base_s: float = 0.5
    max_s: float = 20.0
    max_retry_after_s: float = 60.0
    jitter: bool = True

    def delay(self, attempt: int, failure: Failure) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        if failure.retry_after_s is not None:
            return min(failure.retry_after_s, self.max_retry_after_s)
        cap = min(self.max_s, self.base_s * (2**attempt))
        return random.uniform(0.0, cap) if self.jitter else cap
