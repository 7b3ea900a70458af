"""A circuit breaker per endpoint (api_base, or the provider for cloud models).

After `failure_threshold` consecutive endpoint faults (5xx, timeouts, connection errors)
the circuit opens: calls fail fast with ModelUnavailable naming the endpoint and when it
will be probed. After `reset_after_s` one call is let through (half-open); its success
closes the circuit, its failure opens it again for another `reset_after_s`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from forgekit.core.errors import ModelUnavailable


@dataclass
class _State:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False
    last_error: str = ""


class CircuitBreaker:
    """Per-endpoint circuit state; thread-safe, O(1) per call."""

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def state(self, endpoint: str) -> str:
        """ "closed", "open" or "half-open"."""
        st = self._states.get(endpoint)
        if st is None or st.opened_at is None:
            return "closed"
        if st.probing or self._clock() - st.opened_at >= self.reset_after_s:
            return "half-open"
        return "open"

    def before_call(self, endpoint: str, alias: str | None = None) -> None:
        """Raise ModelUnavailable when the circuit is open; let one probe through after
        `reset_after_s`."""
        st = self._states.get(endpoint)
        if st is None or st.opened_at is None:
            return
        with self._lock:
            now = self._clock()
            wait = st.opened_at + self.reset_after_s - now
            if wait <= 0 and not st.probing:
                st.probing = True  # this caller is the half-open probe
                return
            wall = time.strftime("%H:%M:%S", time.localtime(time.time() + max(wait, 0)))
            when = (
                f"next probe in {wait:.1f}s (at {wall})" if wait > 0 else "a probe is in flight now"
            )
            raise ModelUnavailable(
                f"endpoint {endpoint} is unavailable: circuit open after {st.failures} "
                f"consecutive failures (last: {st.last_error or 'unknown'}); {when}. "
                f"Check the server, or configure models.fallbacks.",
                alias=alias,
            )

    def success(self, endpoint: str) -> None:
        st = self._states.get(endpoint)
        if st is None or (st.failures == 0 and st.opened_at is None):
            return
        with self._lock:
            st.failures = 0
            st.opened_at = None
            st.probing = False
            st.last_error = ""

    def failure(self, endpoint: str, error: str = "") -> None:
        with self._lock:
            st = self._states.setdefault(endpoint, _State())
            st.failures += 1
            st.last_error = error[:200]
            if st.probing or st.failures >= self.failure_threshold:
                st.opened_at = self._clock()
                st.probing = False

    def release_probe(self, endpoint: str) -> None:
        """A probe ended without telling anything about the endpoint (e.g. a 400)."""
        st = self._states.get(endpoint)
        if st is not None and st.probing:
            with self._lock:
                st.probing = False
                st.opened_at = None
                st.failures = 0

    def abort_probe(self, endpoint: str) -> None:
        """A probe was cancelled before it ended: let the next caller probe instead."""
        st = self._states.get(endpoint)
        if st is not None and st.probing:
            with self._lock:
                st.probing = False
