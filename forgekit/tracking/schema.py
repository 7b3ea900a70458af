"""The MLflow store's tables: created and migrated by one process at a time, and a store
broken by an interrupted migration named (`forgekit doctor`).

MLflow creates (and migrates) a SQLite store's tables the first time a process opens it.
Two processes doing that at once collide (``duplicate column name: step``, ``table
_alembic_tmp_metrics already exists``) and can leave the store half-migrated for good.
`ensure_store` runs that set-up under an inter-process lock (`<db>.lock`, an `flock`
the kernel releases if the holder dies), once per process and store.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from forgekit.tracking.uri import sqlite_path

_READY: set[str] = set()
_GUARD = threading.Lock()


@contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Hold the inter-process lock of a SQLite store (no-op for other stores)."""
    db = sqlite_path(uri)
    if db is None:
        yield
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{db}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def ensure_store(uri: str) -> None:
    """Create or migrate the store's tables (once per process), under `store_lock`."""
    if uri in _READY or sqlite_path(uri) is None:
        return
    with _GUARD, store_lock(uri):
        if uri in _READY:
            return
        from mlflow.tracking._tracking_service import utils

        utils._get_store(uri)  # creates/migrates the tables; cached for the process
        _READY.add(uri)


def store_problem(uri: str) -> tuple[str, str] | None:
    """(what is wrong, what to do) for a SQLite store left broken by an interrupted set-up
    or migration; None when it looks whole (or is not a SQLite file yet)."""
    db = sqlite_path(uri)
    if db is None or not db.exists() or db.stat().st_size == 0:
        return None
    fix = (
        f"move it aside (mv {db} {db}.broken); forgekit creates a fresh store on the next "
        "run, and `forgekit track sync` logs every recorded run into it again"
    )
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            tables = {r[0] for r in con.execute(
                "select name from sqlite_master where type = 'table'")}
            version = None
            if "alembic_version" in tables:
                row = con.execute("select version_num from alembic_version").fetchone()
                version = row[0] if row else None
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        return f"{db} is not a readable SQLite database ({e})", fix
    leftovers = sorted(t for t in tables if t.startswith("_alembic_tmp_"))
    if leftovers:
        return (f"{db}: a schema migration was interrupted (leftover table {leftovers[0]})",
                fix)
    if "experiments" in tables and version is None:
        return f"{db}: tables without a schema version (an interrupted set-up)", fix
    try:
        from mlflow.store.db.utils import _get_latest_schema_revision

        head = _get_latest_schema_revision()
    except Exception:  # noqa: BLE001 - mlflow missing or changed: only the checks above
        return None
    if version is not None and version != head:
        return (
            f"{db}: schema version {version}, this MLflow expects {head}",
            f"back it up, then `mlflow db upgrade sqlite:///{db}`; or {fix}",
        )
    return None
