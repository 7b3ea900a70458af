"""A foreground scheduler for pipeline jobs: cron (seconds) schedules and the other
triggers (`watch`, `webhook`, `after`, `when_up`; see `forgekit.pipelines.triggers`).

Every trigger ends in `Scheduler.fire`, which hands a *firing* to the scheduler's loop;
the loop alone starts, queues or skips runs, so the policies below hold for all of them.
Each firing is noted in `<output_dir>/<job>/triggers.json` (shown by `pipeline list`) and
the run record carries its trigger and reason.

Policies, all per job:

- **No overlap.** A slot (or any trigger's firing) that comes while the job's previous
  run still runs is skipped (`overlap: skip`, the default; a `skipped` record is logged)
  or queued
  (`overlap: queue`: at most one run waits and starts when the running one ends; more
  firings of the same event trigger join it, their changed paths merged). The job's
  top-level `overlap:` applies to every trigger; without it, the schedule's.
- **Missed runs after downtime.** The last slot served is kept in
  `<output_dir>/<job>/schedule.json`. On start, if slots passed while the scheduler was
  down, `missed: run_once` (default) runs the job once at once (trigger `missed`);
  `missed: skip` logs a `skipped` record and waits for the next slot. A first start
  (no state) has nothing missed. If the scheduler falls behind by several slots while
  running, it fires once for the latest.
- **Graceful stop.** `stop()` (the CLI maps SIGTERM and Ctrl-C to it) starts no new run,
  lets running jobs finish for up to `grace_s`, then stops them and records them
  `interrupted`. A second signal interrupts at once.

The clock is injectable (`FakeClock` in tests), so schedules are checked without waiting.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from forgekit.pipelines.cron import CronExpr
from forgekit.pipelines.job import JobSpec
from forgekit.pipelines.run_log import PipelineRun, Trigger, append_run, utc_stamp

if TYPE_CHECKING:
    from forgekit.pipelines.watchers import FileWatch, HealthWatch
    from forgekit.pipelines.webhook import WebhookServer

log = logging.getLogger("forgekit.schedule")


class Clock(Protocol):
    """Time as the scheduler sees it."""

    def now(self) -> datetime:
        """The current time, aware (UTC)."""
        ...

    def wait(self, seconds: float, event: threading.Event) -> bool:
        """Wait up to `seconds` or until `event` is set; True when it was set."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, seconds: float, event: threading.Event) -> bool:
        return event.wait(max(seconds, 0.0))


class FakeClock:
    """A clock for tests: `wait` moves time forward at once instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        self.t = start
        self.waits: list[float] = []

    def now(self) -> datetime:
        return self.t

    def wait(self, seconds: float, event: threading.Event) -> bool:
        if event.is_set():
            return True
        self.waits.append(seconds)
        self.t += timedelta(seconds=max(seconds, 0.0))
        return event.is_set()

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


Execute = Callable[..., Any]


@dataclass
class Firing:
    """One reason to run a job: a cron slot or another trigger."""

    trigger: Trigger  # schedule, missed, queued, watch, webhook, after, when_up
    trigger_id: str  # "schedule", "watch[0]", ...
    reason: str
    due: datetime
    slot: datetime | None = None
    parameters: dict[str, Any] | None = None


@dataclass
class _JobState:
    job: JobSpec
    cron: CronExpr | None
    next_slot: datetime | None
    thread: threading.Thread | None = None
    queued: Firing | None = None
    fired: int = 0
    records: list[Any] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)  # trigger id -> last firing

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


def _offset(job: JobSpec, slot: datetime) -> float:
    """Stagger plus a repeatable jitter in [0, jitter_s) for this job and slot."""
    sched = job.schedule
    assert sched is not None
    jitter = 0.0
    if sched.jitter_s:
        digest = hashlib.sha256(f"{job.name}|{slot.isoformat()}".encode()).digest()
        jitter = int.from_bytes(digest[:8], "big") / 2**64 * sched.jitter_s
    return sched.stagger_s + jitter


def trigger_state_file(job: JobSpec) -> Path:
    """Where the scheduler keeps each trigger's last firing (read by `pipeline list`)."""
    return job.job_dir() / "triggers.json"


def read_trigger_state(job: JobSpec) -> dict[str, Any]:
    """trigger id -> {at, reason, outcome} of its last firing ({} when none)."""
    try:
        data = json.loads(trigger_state_file(job).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _merge(queued: Firing, new: Firing) -> None:
    """Fold a second firing of the same trigger into the queued one (changed paths add)."""
    params = dict(queued.parameters or {})
    for k, v in (new.parameters or {}).items():
        old = params.get(k)
        if isinstance(old, list) and isinstance(v, list):
            params[k] = sorted({*map(str, old), *map(str, v)})
        else:
            params[k] = v
    queued.parameters = params or None
    queued.reason = f"{queued.reason}; then {new.reason}"


class Scheduler:
    """Runs due jobs until stopped: cron slots and the other triggers of each job.

    Args:
        jobs: jobs to schedule (those with neither a schedule nor a trigger, and those
            with `enabled: false`, are ignored).
        clock: the time source (default: the system clock).
        execute: called as `execute(job, trigger=, scheduled_for=, interrupt=, stopping=,
            reason=, parameters=)` to run a job (default: `forgekit.pipelines.run_job`).
        grace_s: how long running jobs may finish after `stop()`.
        inline: run jobs in the scheduler's own thread (tests; no overlap possible).
        webhook_port: the loopback port of the webhook endpoint (0: any free port; see
            `webhook_url` after `start()`).
    """

    def __init__(
        self,
        jobs: list[JobSpec],
        *,
        clock: Clock | None = None,
        execute: Execute | None = None,
        grace_s: float = 60.0,
        inline: bool = False,
        webhook_port: int = 8787,
    ) -> None:
        if execute is None:
            from forgekit.pipelines.notebook_run import run_job

            execute = run_job
        from forgekit.pipelines.triggers import check_after_graph

        self.clock: Clock = clock or SystemClock()
        self.execute = execute
        self.grace_s = grace_s
        self.inline = inline
        self.webhook_port = webhook_port
        check_after_graph(jobs)  # also when the jobs were not read by load_jobs
        self.jobs = [j for j in jobs if j.has_triggers() and j.enabled]
        self._states: dict[str, _JobState] = {}
        self._events: list[tuple[str, Firing]] = []
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._interrupt = threading.Event()
        self._lock = threading.Lock()
        self._sources: list[FileWatch | HealthWatch] = []
        self.webhooks: WebhookServer | None = None
        self.log: list[str] = []  # what the scheduler decided, for the CLI and tests

    # ---- bookkeeping ------------------------------------------------------------------
    def _say(self, level: int, msg: str) -> None:
        self.log.append(msg)
        log.log(level, msg)

    def _state_file(self, job: JobSpec) -> Path:
        return job.job_dir() / "schedule.json"

    def _load_last_slot(self, job: JobSpec) -> datetime | None:
        f = self._state_file(job)
        try:
            return datetime.fromisoformat(json.loads(f.read_text())["last_slot"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _save_last_slot(self, job: JobSpec, slot: datetime) -> None:
        _write_json(self._state_file(job), {"last_slot": slot.isoformat()})

    def _note_firing(self, st: _JobState, f: Firing, outcome: str) -> None:
        st.last[f.trigger_id] = {
            "at": self.clock.now().isoformat(),
            "trigger": f.trigger,
            "reason": f.reason,
            "outcome": outcome,
        }
        try:
            _write_json(trigger_state_file(st.job), st.last)
        except OSError as e:
            self._say(logging.WARNING, f"job {st.job.name}: cannot save trigger state: {e}")

    def _skip_record(self, job: JobSpec, f: Firing, message: str) -> None:
        self._say(logging.WARNING, f"job {job.name}: {message}")
        append_run(
            job.runs_root() / "runs.jsonl",
            PipelineRun(
                job=job.name,
                run_id=utc_stamp(self.clock.now()) + "-skipped",
                status="skipped",
                trigger=f.trigger,
                reason=f.reason,
                scheduled_for=f.slot.isoformat() if f.slot else None,
                started_at=self.clock.now().isoformat(),
                notebook=str(job.notebook_path()),
                message=message,
            ),
        )

    # ---- firing -----------------------------------------------------------------------
    def _due(self, st: _JobState) -> datetime | None:
        if st.next_slot is None:
            return None
        return st.next_slot + timedelta(seconds=_offset(st.job, st.next_slot))

    def _start(self, st: _JobState, f: Firing) -> None:
        st.fired += 1
        when = f" slot {f.slot.isoformat()}" if f.slot else ""
        self._say(logging.INFO, f"job {st.job.name}: starting ({f.trigger},{when} {f.reason})")

        def body() -> None:
            rec = None
            try:
                rec = self.execute(
                    st.job,
                    trigger=f.trigger,
                    scheduled_for=f.slot,
                    interrupt=self._interrupt,
                    stopping=self._stopping,
                    reason=f.reason,
                    parameters=f.parameters,
                )
                st.records.append(rec)
                summary = getattr(rec, "summary", None)
                self._say(
                    logging.INFO, summary() if callable(summary) else f"job {st.job.name}: finished"
                )
            except Exception as e:  # a failing job never stops the scheduler
                self._say(logging.ERROR, f"job {st.job.name}: crashed: {e!r}")
            finally:
                self._after(st.job, rec)
                self._wake.set()

        if self.inline:
            body()
            return
        st.thread = threading.Thread(target=body, name=f"forgekit-job-{st.job.name}", daemon=True)
        st.thread.start()

    def _after(self, job: JobSpec, rec: Any) -> None:
        """Fire the `after` triggers that wait on `job` (a crash counts as failed)."""
        status = getattr(rec, "status", None) or ("failed" if rec is None else "completed")
        run_id = getattr(rec, "run_id", "")
        for down in self.jobs:
            for i, t in enumerate(down.after):
                if t.job == job.name and t.matches(status):
                    self.fire(
                        down.name,
                        f"after[{i}]",
                        "after",
                        f"{job.name} run {run_id} {status}".replace("  ", " "),
                        jitter_s=t.jitter_s,
                    )

    def _dispatch(self, st: _JobState, f: Firing) -> None:
        """Start a firing now, queue it or skip it, per the job's overlap policy."""
        if f.slot is not None and f.trigger in ("schedule", "missed"):
            self._save_last_slot(st.job, f.slot)
        if self._stopping.is_set():
            self._say(logging.INFO, f"job {st.job.name}: {f.trigger} dropped: stopping")
            return
        if not st.running:
            self._note_firing(st, f, "started")
            self._start(st, f)
            return
        what = f"slot {f.slot.isoformat()}" if f.slot else f"{f.trigger} ({f.reason})"
        if st.job.overlap_policy() == "queue":
            if st.queued is None:
                st.queued = f
                self._note_firing(st, f, "queued")
                self._say(logging.INFO, f"job {st.job.name}: still running; {what} queued")
                return
            if st.queued.trigger_id == f.trigger_id and f.slot is None:
                _merge(st.queued, f)
                self._note_firing(st, f, "queued")
                self._say(logging.INFO, f"job {st.job.name}: still running; {what} joined the "
                          "queued run")
                return
            self._note_firing(st, f, "skipped")
            self._skip_record(
                st.job, f, f"still running and a run is already queued; {what} skipped"
            )
            return
        self._note_firing(st, f, "skipped")
        self._skip_record(
            st.job, f, f"previous run still running; {what} skipped (overlap: skip)"
        )

    def fire(
        self,
        job: str,
        trigger_id: str,
        trigger: Trigger,
        reason: str,
        parameters: dict[str, Any] | None = None,
        jitter_s: float = 0.0,
    ) -> None:
        """Ask for a run of `job` (thread-safe): the scheduler's loop starts, queues or
        skips it after a random delay in [0, jitter_s)."""
        delay = random.uniform(0, jitter_s) if jitter_s else 0.0
        f = Firing(
            trigger=trigger,
            trigger_id=trigger_id,
            reason=reason,
            due=self.clock.now() + timedelta(seconds=delay),
            parameters=parameters,
        )
        if delay:
            self._say(logging.INFO, f"job {job}: {trigger} fired; starts in {delay:.1f}s (jitter)")
        with self._lock:
            self._events.append((job, f))
        self._wake.set()

    # ---- the loop ---------------------------------------------------------------------
    def start(self) -> None:
        """Compute each job's next slot, apply the missed-run policy and start the
        watchers, health checks and webhook endpoint of the other triggers."""
        now = self.clock.now()
        for job in self.jobs:
            cron = CronExpr.parse(job.schedule.cron) if job.schedule else None
            nxt = cron.next_after(now, job.schedule.timezone) if cron and job.schedule else None
            st = _JobState(job, cron, nxt, last=read_trigger_state(job))
            self._states[job.name] = st
            if cron is None or job.schedule is None:
                continue
            last = self._load_last_slot(job)
            if last is None:
                continue
            first_missed = cron.next_after(last, job.schedule.timezone)
            if first_missed > now:
                continue
            f = Firing("missed", "schedule", f"slots missed since {last.isoformat()}", now,
                       slot=first_missed)
            if job.schedule.missed == "run_once":
                self._say(
                    logging.INFO,
                    f"job {job.name}: slots missed since {last.isoformat()}; running once now",
                )
                self._dispatch(st, f)
            else:
                self._skip_record(
                    job,
                    f,
                    f"slots missed since {last.isoformat()} while down; skipped (missed: skip)",
                )
                self._save_last_slot(job, now)
        self._start_sources()

    def _start_sources(self) -> None:
        from forgekit.pipelines.triggers import (
            WatchTrigger,
            WebhookTrigger,
            WhenUpTrigger,
            job_triggers,
        )

        hooks: list[tuple[JobSpec, str, WebhookTrigger]] = []
        try:
            for job in self.jobs:
                for tid, t in job_triggers(job):
                    if isinstance(t, WatchTrigger):
                        from forgekit.pipelines.watchers import FileWatch

                        self._sources.append(FileWatch(job, tid, t, self.fire, self._closing))
                    elif isinstance(t, WhenUpTrigger):
                        from forgekit.pipelines.watchers import HealthWatch

                        self._sources.append(HealthWatch(job, tid, t, self.fire, self._closing))
                    elif isinstance(t, WebhookTrigger):
                        hooks.append((job, tid, t))
            if hooks:
                from forgekit.pipelines.webhook import WebhookServer

                self.webhooks = WebhookServer(
                    hooks,
                    port=self.webhook_port,
                    on_post=lambda j, tid, why, p, jit: self.fire(j, tid, "webhook", why, p, jit),
                    stopping=self._stopping,
                )
        except Exception:
            self._close_sources()
            raise
        for src in self._sources:
            src.start()
        for src in self._sources:
            ready = getattr(src, "ready", None)
            if ready is not None and not ready.wait(10):
                self._say(logging.WARNING, f"job {src.job.name}: watcher slow to start")
        if self.webhooks is not None:
            self.webhooks.start()
            self._say(logging.INFO, f"webhooks on {self.webhooks.url} "
                      f"({', '.join(sorted(self.webhooks.routes))})")

    @property
    def _closing(self) -> threading.Event:
        return self._stopping

    @property
    def webhook_url(self) -> str | None:
        """`http://127.0.0.1:<port>` once started, when a job has a webhook."""
        return self.webhooks.url if self.webhooks is not None else None

    def _close_sources(self) -> None:
        self._stopping.set()  # watchers and health checks stop on it
        if self.webhooks is not None:
            self.webhooks.close()
        for src in self._sources:
            if src.thread.is_alive():
                src.thread.join(5)

    def tick(self) -> None:
        """Start queued runs whose job is free, then the due firings of every trigger."""
        now = self.clock.now()
        with self._lock:
            due = [(j, f) for j, f in self._events if f.due <= now]
            self._events = [(j, f) for j, f in self._events if f.due > now]
        for st in self._states.values():
            if st.queued is not None and not st.running and not self._stopping.is_set():
                f, st.queued = st.queued, None
                self._start(
                    st,
                    Firing("queued", f.trigger_id, f"{f.trigger}: {f.reason} (queued behind "
                           "the previous run)", now, slot=f.slot, parameters=f.parameters),
                )
        for name, f in due:
            target = self._states.get(name)
            if target is None:
                self._say(logging.WARNING, f"{f.trigger} for unknown or disabled job {name!r} "
                          "ignored")
                continue
            self._dispatch(target, f)
        for st in self._states.values():
            if st.cron is None or st.next_slot is None:
                continue
            tz = st.job.schedule.timezone if st.job.schedule else "UTC"
            passed = []
            while (d := self._due(st)) is not None and d <= now:
                passed.append(st.next_slot)
                st.next_slot = st.cron.next_after(st.next_slot, tz)
            if passed:
                if len(passed) > 1:
                    self._say(
                        logging.WARNING,
                        f"job {st.job.name}: scheduler was late; "
                        f"{len(passed) - 1} slot(s) folded into one run",
                    )
                slot = passed[-1]
                self._dispatch(
                    st, Firing("schedule", "schedule", f"cron {st.cron.text} slot", now, slot=slot)
                )

    def next_wake(self) -> datetime | None:
        dues = [d for st in self._states.values() if (d := self._due(st)) is not None]
        with self._lock:
            dues += [f.due for _, f in self._events]
        return min(dues) if dues else None

    def run(self, *, until: datetime | None = None) -> None:
        """Run until `stop()` (or until the clock passes `until`), then drain."""
        if not self._states:
            self.start()
        while not self._stopping.is_set():
            self.tick()
            now = self.clock.now()
            if until is not None and now >= until:
                break
            wake = self.next_wake()
            target = wake if until is None or (wake is not None and wake < until) else until
            delay = 3600.0 if target is None else (target - now).total_seconds()
            self.clock.wait(max(delay, 0.0), self._wake)
            self._wake.clear()
        self.drain()

    def stop(self) -> None:
        """Start no new run; `run` drains and returns."""
        if not self._stopping.is_set():
            self._say(logging.INFO, "stopping: no new runs; waiting for running jobs")
        self._stopping.set()
        self._wake.set()

    def interrupt(self) -> None:
        """Stop running jobs now (they are recorded `interrupted`)."""
        self._interrupt.set()
        self.stop()

    def drain(self) -> None:
        """Stop the triggers, wait up to `grace_s` for running jobs, then interrupt them."""
        self._close_sources()
        deadline = time.monotonic() + self.grace_s
        with self._lock:
            if self._events:
                self._say(logging.INFO, f"{len(self._events)} pending firing(s) dropped at stop")
            self._events = []
        for st in self._states.values():
            if st.queued is not None:
                self._say(logging.INFO, f"job {st.job.name}: queued run dropped at stop")
                st.queued = None
            if st.thread is not None:
                st.thread.join(max(deadline - time.monotonic(), 0.0))
        if any(st.running for st in self._states.values()):
            self._say(
                logging.WARNING,
                f"grace period of {self.grace_s:g}s over; interrupting running jobs",
            )
            self._interrupt.set()
            for st in self._states.values():
                if st.thread is not None:
                    st.thread.join()

    def fired(self, job: str) -> int:
        """How many runs of `job` were started."""
        return self._states[job].fired


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    tmp.replace(path)
