"""The threads behind the `watch` and `when_up` triggers; each calls `fire` when its
trigger fires and never runs a job itself (the scheduler applies overlap and jitter)."""

from __future__ import annotations

import fnmatch
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from forgekit.core.errors import ConfigError
from forgekit.pipelines.job import JobSpec
from forgekit.pipelines.run_log import Trigger
from forgekit.pipelines.triggers import WatchTrigger, WhenUpTrigger

log = logging.getLogger("forgekit.schedule")

# fire(job name, trigger id, kind, reason, parameters, jitter_s)
Fire = Callable[[str, str, Trigger, str, dict[str, Any] | None, float], None]


class FileWatch:
    """Watches a job's `watch` paths; fires once per debounced burst of matching changes."""

    def __init__(
        self, job: JobSpec, trigger_id: str, spec: WatchTrigger, fire: Fire, stop: threading.Event
    ) -> None:
        self.job, self.trigger_id, self.spec = job, trigger_id, spec
        self.fire, self.stop = fire, stop
        self.ready = threading.Event()
        self.roots = []
        for i, p in enumerate(spec.paths):
            path = Path(p) if Path(p).is_absolute() else job.base_dir / p
            if not path.exists():
                key = f"{trigger_id}.paths[{i}]" if len(job.watch) > 1 else f"watch.paths[{i}]"
                raise ConfigError(
                    f"watched path not found: {path} (create it, or fix the path)",
                    file=job.source,
                    key=key,
                )
            self.roots.append(path.resolve())
        # never react to what the job itself writes
        self.ignore = [job.runs_root().resolve(), job.base_dir.resolve() / ".forgekit"]
        self.thread = threading.Thread(
            target=self._run, name=f"forgekit-watch-{job.name}", daemon=True
        )

    def accept(self, path: str) -> bool:
        p = Path(path)
        if any(p == d or d in p.parents for d in self.ignore):
            return False
        rels = [p.name]
        for root in self.roots:
            if root == p or root in p.parents:
                rels.append(p.relative_to(root).as_posix())
        return any(fnmatch.fnmatch(r, pat) for r in rels for pat in self.spec.patterns)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        from forgekit.core.filewatch import watch_changes

        try:
            for batch in watch_changes(
                self.roots,
                debounce_s=self.spec.debounce_s,
                stop=self.stop,
                accept=self.accept,
                ready=self.ready,
            ):
                params = {self.spec.param: batch.paths} if self.spec.param else None
                self.fire(
                    self.job.name,
                    self.trigger_id,
                    "watch",
                    batch.describe(self.job.base_dir.resolve()),
                    params,
                    self.spec.jitter_s,
                )
        except Exception as e:  # the watcher dies, the scheduler goes on
            log.error("job %s: %s stopped: %r", self.job.name, self.spec.describe(), e)
        finally:
            self.ready.set()


class HealthWatch:
    """Polls a `when_up` URL; fires when it answers 2xx after being down."""

    def __init__(
        self, job: JobSpec, trigger_id: str, spec: WhenUpTrigger, fire: Fire, stop: threading.Event
    ) -> None:
        self.job, self.trigger_id, self.spec = job, trigger_id, spec
        self.fire, self.stop = fire, stop
        self.up: bool | None = None  # None until the first check
        self.checks = 0
        self.thread = threading.Thread(
            target=self._run, name=f"forgekit-when-up-{job.name}", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def check(self) -> tuple[bool, str]:
        import httpx

        try:
            r = httpx.get(self.spec.url, timeout=self.spec.timeout_s)
        except httpx.HTTPError as e:
            return False, f"{type(e).__name__}: {e}"
        return 200 <= r.status_code < 300, f"HTTP {r.status_code}"

    def _run(self) -> None:
        down_why = ""
        while not self.stop.is_set():
            ok, why = self.check()
            self.checks += 1
            if ok and self.up is False:
                self.fire(
                    self.job.name,
                    self.trigger_id,
                    "when_up",
                    f"{self.spec.url} is up ({why}) after being down ({down_why})",
                    None,
                    self.spec.jitter_s,
                )
            if not ok:
                if self.up is not False:
                    log.info("job %s: %s is down (%s)", self.job.name, self.spec.url, why)
                down_why = why
            self.up = ok
            if self.stop.wait(self.spec.every_s):
                return
