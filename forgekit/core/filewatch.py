"""Debounced file-change batches over `watchfiles` (a maintained, native file watcher).

Changes are gathered until none came for `debounce_s` seconds, then handed over as one
`ChangeBatch`: a burst of writes (an editor saving, a sync tool copying a folder) becomes
one batch. Used by the pipeline `watch` trigger and by `Index.watch()`.

Example:
    >>> stop = threading.Event()                                   # doctest: +SKIP
    >>> for batch in watch_changes(["data"], debounce_s=1, stop=stop):  # doctest: +SKIP
    ...     print(batch.describe())
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ChangeBatch:
    """What changed in one debounced burst: absolute paths, by kind (last kind wins)."""

    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return sorted({*self.added, *self.modified, *self.deleted})

    def __len__(self) -> int:
        return len(self.paths)

    def describe(self, base: Path | None = None, limit: int = 5) -> str:
        """`3 files changed: a.jsonl (modified), b.jsonl (added), ...`."""
        kinds = {p: "added" for p in self.added}
        kinds.update({p: "modified" for p in self.modified})
        kinds.update({p: "deleted" for p in self.deleted})
        names = []
        for p in self.paths[:limit]:
            shown = p
            if base is not None:
                try:
                    shown = Path(p).relative_to(base).as_posix()
                except ValueError:
                    pass
            names.append(f"{shown} ({kinds[p]})")
        more = f", ... {len(self) - limit} more" if len(self) > limit else ""
        n = len(self)
        return f"{n} file{'s' if n != 1 else ''} changed: {', '.join(names)}{more}"


def watch_changes(
    paths: Sequence[str | Path],
    *,
    debounce_s: float,
    stop: threading.Event,
    accept: Callable[[str], bool] | None = None,
    ready: threading.Event | None = None,
    on_ready: Callable[[], None] | None = None,
) -> Iterator[ChangeBatch]:
    """Yield a `ChangeBatch` each time changes under `paths` settle for `debounce_s`.

    Args:
        paths: folders (watched recursively) or files; they must exist.
        debounce_s: quiet time that ends a burst.
        stop: set it to end the iteration (checked about every 50 ms).
        accept: keep only paths for which it returns True (watchfiles' default filter,
            which drops `.git`, `__pycache__`, editor swap files and the like, applies
            first).
        ready: set once the watcher is installed (changes before that are not seen).
        on_ready: called once the watcher is installed, before any batch (changes made
            while it runs come in the first batch): the place for a catch-up pass.
    """
    from watchfiles import Change, DefaultFilter, watch

    default = DefaultFilter()

    def keep(change: Change, path: str) -> bool:
        return default(change, path) and (accept is None or accept(path))

    # how often the loop looks at the clock while nothing happens
    tick_ms = int(max(50, min(200, debounce_s * 1000 / 4)))
    pending: dict[str, Change] = {}
    last_change = 0.0
    for changes in watch(
        *[str(p) for p in paths],
        watch_filter=keep,
        debounce=max(int(debounce_s * 1000), 100),
        step=50,
        stop_event=stop,
        rust_timeout=tick_ms,
        yield_on_timeout=True,
        raise_interrupt=False,
    ):
        if on_ready is not None:
            on_ready()
            on_ready = None
        if ready is not None:
            ready.set()
        now = time.monotonic()
        for change, path in changes:
            prev = pending.get(path)
            # added then deleted inside one burst: nothing to report for it
            if change == Change.deleted and prev == Change.added:
                pending.pop(path)
            elif change == Change.modified and prev == Change.added:
                continue
            else:
                pending[path] = change
        if changes:
            last_change = now
        if pending and now - last_change >= debounce_s:
            batch = ChangeBatch()
            for path, change in sorted(pending.items()):
                if change == Change.added:
                    batch.added.append(path)
                elif change == Change.deleted:
                    batch.deleted.append(path)
                else:
                    batch.modified.append(path)
            pending = {}
            yield batch
        if stop.is_set():
            return
