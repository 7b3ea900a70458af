"""Waiting on a condition in tests (a file written, a log line, a run recorded): poll it
briefly until it holds, and fail naming what never happened."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(cond: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> None:
    """Return once `cond()` is true; an AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
