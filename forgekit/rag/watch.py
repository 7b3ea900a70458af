"""Keep a folder's index current as its files change: `Index.watch()` and
`forgekit rag index PATH --watch`.

Each debounced burst of changes runs the index's ordinary incremental update (exact
adds, changes and deletes; checkpointed per group of sources), so the watcher adds no
state of its own: stop it at any moment, even with SIGKILL in the middle of an update, and
the next start's first update catches up with whatever changed meanwhile. An update that
fails is reported and the watch goes on; the next change retries it.

Example:
    >>> idx = Index("docs/", name="docs")                  # doctest: +SKIP
    >>> w = idx.watch(debounce_s=1, background=True)       # doctest: +SKIP
    >>> ...                                               # edit files; searches see them
    >>> w.stop()                                           # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forgekit.rag.index import Index, UpdateReport

log = logging.getLogger("forgekit.rag")


def describe_update(rep: UpdateReport) -> str:
    """`added 1, updated 2, removed 0 (12 chunks written, 3 removed) in 0.41s`."""
    return (
        f"added {len(rep.added)}, updated {len(rep.updated)}, removed {len(rep.removed)} "
        f"({rep.chunks_written} chunks written, {rep.chunks_removed} removed) "
        f"in {rep.seconds:.2f}s"
    )


class IndexWatcher:
    """Runs an index's incremental update after each debounced burst of file changes.

    Args:
        index: an `Index` built over a folder (or one file).
        debounce_s: quiet time that ends a burst of changes.
        on_update: called with each update's `UpdateReport` (default: logged).
        on_error: called with an update's exception (default: logged); the watch goes on.

    Attributes:
        updates: updates run so far (the catch-up update at start included).
        errors: updates that failed.
    """

    def __init__(
        self,
        index: Index,
        *,
        debounce_s: float = 1.0,
        on_update: Callable[[UpdateReport], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        if index.root is None:
            from forgekit.core.errors import ConfigError

            raise ConfigError(
                f"index {index.name!r} was not built over a folder; only a folder (or file) "
                "index can be watched: Index('path/', name=...).watch()"
            )
        self.index = index
        self.debounce_s = debounce_s
        self.on_update = on_update or (lambda r: log.info("index %s: %s", index.name,
                                                          describe_update(r)))
        self.on_error = on_error or (lambda e: log.error("index %s: update failed: %s",
                                                         index.name, e))
        self.stop_event = threading.Event()
        self.ready = threading.Event()
        self.updates = 0
        self.errors = 0
        self.thread: threading.Thread | None = None

    def _accept(self, path: str) -> bool:
        idx = self.index
        p = Path(path)
        if idx.dir.resolve() in p.parents:
            return False  # the index's own files
        assert idx.root is not None
        base = idx.root.parent if idx.root.is_file() else idx.root
        try:
            rel = p.relative_to(base).as_posix()
        except ValueError:
            return False
        if idx.root.is_file():
            return p == idx.root
        return idx._sources().wanted(rel) or p.is_dir() or not p.exists()

    def update_once(self) -> UpdateReport | None:
        """One incremental update, reported; None when it failed (reported too)."""
        try:
            rep = self.index.update()
        except Exception as e:
            self.errors += 1
            self.on_error(e)
            return None
        self.updates += 1
        self.on_update(rep)
        return rep

    def run(self) -> None:
        """Catch up, then update after every burst of changes until `stop()`."""
        from forgekit.core.filewatch import watch_changes

        def catch_up() -> None:
            # the watcher is installed first, so nothing that changes now is missed
            self.update_once()
            self.ready.set()

        assert self.index.root is not None
        try:
            for _batch in watch_changes(
                [self.index.root],
                debounce_s=self.debounce_s,
                stop=self.stop_event,
                accept=self._accept,
                on_ready=catch_up,
            ):
                self.update_once()
        except Exception as e:  # the watcher itself failed (folder gone, no inotify...)
            self.errors += 1
            self.on_error(e)
        finally:
            self.ready.set()

    def start(self) -> IndexWatcher:
        """Run in a background thread; returns once the watcher is installed and the
        catch-up update is done."""
        self.thread = threading.Thread(
            target=self.run, name=f"forgekit-index-watch-{self.index.name}", daemon=True
        )
        self.thread.start()
        while not self.ready.wait(0.5) and self.thread.is_alive():
            pass
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop watching; an update in progress finishes first (or is caught up later)."""
        self.stop_event.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)
