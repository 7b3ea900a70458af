"""Signs of life for anything a user waits on: a tqdm bar (a text bar in a terminal, a
progress widget in a notebook through `tqdm.auto`), quiet when progress is off.

Progress is on unless `FORGEKIT_PROGRESS=0` or `set_progress(False)` (the CLI's
`--no-progress`). A `Progress` with `delay_s` appears only once the wait lasts that long,
so fast paths print nothing.

Example:
    >>> with Progress("embedding documents", total=3, unit="doc", enabled=False) as p:
    ...     for _ in range(3):
    ...         p.update(1)
    >>> p.n
    3
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

_ENABLED: bool | None = None  # None: from the environment


def set_progress(enabled: bool | None) -> None:
    """Turn progress bars on or off for this process (None: back to the environment)."""
    global _ENABLED
    _ENABLED = enabled


def progress_enabled() -> bool:
    if _ENABLED is not None:
        return _ENABLED
    return os.environ.get("FORGEKIT_PROGRESS", "1").lower() not in ("0", "false", "no", "off")


class Progress:
    """A progress bar that shows up only when enabled and only after `delay_s`.

    Args:
        desc: what is happening ("starting the local model…").
        total: how many units, or None for a wait of unknown length (elapsed time shown).
        unit: the unit's name ("doc", "query").
        delay_s: show the bar only once this long has passed (0: at once).
        enabled: override `progress_enabled()`.
    """

    def __init__(
        self,
        desc: str,
        total: int | None = None,
        *,
        unit: str = "it",
        delay_s: float = 0.0,
        enabled: bool | None = None,
    ) -> None:
        self.desc = desc
        self.total = total
        self.unit = unit
        self.n = 0
        self.enabled = progress_enabled() if enabled is None else enabled
        self._t0 = time.monotonic()
        self._delay = delay_s
        self._bar: Any = None
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    def _ensure_bar(self) -> Any:
        if self._bar is None and self.enabled and time.monotonic() - self._t0 >= self._delay:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=self.total,
                desc=self.desc,
                unit=self.unit,
                initial=self.n,
                dynamic_ncols=True,
                file=sys.stderr,
                leave=True,
                # a wait of unknown length: what is happening and for how long, no rate
                **({"bar_format": "{desc} {elapsed}"} if self.total is None else {}),
            )
        return self._bar

    def update(self, n: int = 1) -> None:
        """Count `n` more units done."""
        with self._lock:
            bar = self._ensure_bar()  # a bar made now starts at the count so far
            self.n += n
            if bar is not None:
                bar.update(n)

    def set_description(self, desc: str) -> None:
        with self._lock:
            self.desc = desc
            if self._bar is not None:
                self._bar.set_description(desc)

    def tick(self, every_s: float = 0.5) -> Progress:
        """Refresh the bar from a background thread while a blocking wait goes on (for a
        wait of unknown length: the elapsed time keeps moving)."""

        def run() -> None:
            while not self._stop.wait(every_s):
                with self._lock:
                    bar = self._ensure_bar()
                    if bar is not None:
                        bar.refresh()

        if self.enabled:
            self._ticker = threading.Thread(target=run, name="forgekit-progress", daemon=True)
            self._ticker.start()
        return self

    def close(self, message: str | None = None) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(2)
        with self._lock:
            if self._bar is not None:
                if message:
                    self._bar.set_description(message)
                self._bar.close()
                self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
