"""A foreground scheduler for pipeline jobs with cron (seconds) schedules.

Policies, all per job (`schedule:` in the job file):

- **No overlap.** A slot that comes while the job's previous run still runs is skipped
  (`overlap: skip`, the default; a `skipped` record is logged) or queued
  (`overlap: queue`: at most one run waits and starts when the running one ends).
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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from forgekit.pipelines.cron import CronExpr
from forgekit.pipelines.job import JobSpec
from forgekit.pipelines.runs import PipelineRun, append_run, utc_stamp

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
class _JobState:
    job: JobSpec
    cron: CronExpr
    next_slot: datetime
    thread: threading.Thread | None = None
    queued: datetime | None = None
    fired: int = 0
    records: list[Any] = field(default_factory=list)

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


class Scheduler:
    """Runs due jobs until stopped.

    Args:
        jobs: jobs to schedule (those without a schedule or with `enabled: false` are
            ignored).
        clock: the time source (default: the system clock).
        execute: called as `execute(job, trigger=, scheduled_for=, interrupt=, stopping=)`
            to run a job (default: `forgekit.pipelines.run_job`).
        grace_s: how long running jobs may finish after `stop()`.
        inline: run jobs in the scheduler's own thread (tests; no overlap possible).
    """

    def __init__(
        self,
        jobs: list[JobSpec],
        *,
        clock: Clock | None = None,
        execute: Execute | None = None,
        grace_s: float = 60.0,
        inline: bool = False,
    ) -> None:
        if execute is None:
            from forgekit.pipelines.runner import run_job as execute
        self.clock: Clock = clock or SystemClock()
        self.execute = execute
        self.grace_s = grace_s
        self.inline = inline
        self.jobs = [j for j in jobs if j.schedule is not None and j.enabled]
        self._states: dict[str, _JobState] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._interrupt = threading.Event()
        self._lock = threading.Lock()
        self.log: list[str] = []  # what the scheduler decided, for the CLI and tests

    # ---- bookkeeping ------------------------------------------------------------------
    def _say(self, level: int, msg: str) -> None:
        self.log.append(msg)
        log.log(level, msg)

    def _state_file(self, job: JobSpec):
        return job.job_dir() / "schedule.json"

    def _load_last_slot(self, job: JobSpec) -> datetime | None:
        f = self._state_file(job)
        try:
            return datetime.fromisoformat(json.loads(f.read_text())["last_slot"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _save_last_slot(self, job: JobSpec, slot: datetime) -> None:
        f = self._state_file(job)
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps({"last_slot": slot.isoformat()}))
        tmp.replace(f)

    def _skip_record(self, job: JobSpec, slot: datetime, message: str) -> None:
        self._say(logging.WARNING, f"job {job.name}: {message}")
        append_run(
            job.runs_root() / "runs.jsonl",
            PipelineRun(
                job=job.name,
                run_id=utc_stamp(self.clock.now()) + "-skipped",
                status="skipped",
                trigger="schedule",
                scheduled_for=slot.isoformat(),
                started_at=self.clock.now().isoformat(),
                notebook=str(job.notebook_path()),
                message=message,
            ),
        )

    # ---- firing -----------------------------------------------------------------------
    def _due(self, st: _JobState) -> datetime:
        return st.next_slot + timedelta(seconds=_offset(st.job, st.next_slot))

    def _start(self, st: _JobState, slot: datetime, trigger: str) -> None:
        st.fired += 1
        self._say(logging.INFO, f"job {st.job.name}: starting ({trigger}, slot {slot.isoformat()})")

        def body() -> None:
            try:
                rec = self.execute(
                    st.job,
                    trigger=trigger,
                    scheduled_for=slot,
                    interrupt=self._interrupt,
                    stopping=self._stopping,
                )
                st.records.append(rec)
                summary = getattr(rec, "summary", None)
                self._say(
                    logging.INFO, summary() if callable(summary) else f"job {st.job.name}: finished"
                )
            except Exception as e:  # a failing job never stops the scheduler
                self._say(logging.ERROR, f"job {st.job.name}: crashed: {e!r}")
            finally:
                self._wake.set()

        if self.inline:
            body()
            return
        st.thread = threading.Thread(target=body, name=f"forgekit-job-{st.job.name}", daemon=True)
        st.thread.start()

    def _fire(self, st: _JobState, slot: datetime, trigger: str = "schedule") -> None:
        self._save_last_slot(st.job, slot)
        if not st.running:
            self._start(st, slot, trigger)
            return
        if st.job.schedule is not None and st.job.schedule.overlap == "queue":
            if st.queued is None:
                st.queued = slot
                self._say(
                    logging.INFO,
                    f"job {st.job.name}: still running; slot {slot.isoformat()} queued",
                )
                return
            self._skip_record(
                st.job,
                slot,
                f"still running and a run is already queued; slot {slot.isoformat()} skipped",
            )
            return
        self._skip_record(
            st.job,
            slot,
            f"previous run still running; slot {slot.isoformat()} skipped (overlap: skip)",
        )

    # ---- the loop ---------------------------------------------------------------------
    def start(self) -> None:
        """Compute each job's next slot and apply the missed-run policy."""
        now = self.clock.now()
        for job in self.jobs:
            assert job.schedule is not None
            cron = CronExpr.parse(job.schedule.cron)
            st = _JobState(job, cron, cron.next_after(now, job.schedule.timezone))
            self._states[job.name] = st
            last = self._load_last_slot(job)
            if last is None:
                continue
            first_missed = cron.next_after(last, job.schedule.timezone)
            if first_missed > now:
                continue
            if job.schedule.missed == "run_once":
                self._say(
                    logging.INFO,
                    f"job {job.name}: slots missed since {last.isoformat()}; running once now",
                )
                self._fire(st, first_missed, trigger="missed")
            else:
                self._skip_record(
                    job,
                    first_missed,
                    f"slots missed since {last.isoformat()} while down; skipped (missed: skip)",
                )
                self._save_last_slot(job, now)

    def tick(self) -> None:
        """Start queued runs whose job is free, then fire every job whose slot is due."""
        now = self.clock.now()
        for st in self._states.values():
            tz = st.job.schedule.timezone if st.job.schedule else "UTC"
            if st.queued is not None and not st.running and not self._stopping.is_set():
                slot, st.queued = st.queued, None
                self._start(st, slot, "queued")
            passed = []
            while self._due(st) <= now:
                passed.append(st.next_slot)
                st.next_slot = st.cron.next_after(st.next_slot, tz)
            if passed:
                if len(passed) > 1:
                    self._say(
                        logging.WARNING,
                        f"job {st.job.name}: scheduler was late; "
                        f"{len(passed) - 1} slot(s) folded into one run",
                    )
                self._fire(st, passed[-1])

    def next_wake(self) -> datetime | None:
        dues = [self._due(st) for st in self._states.values()]
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
        """Wait up to `grace_s` for running jobs, then interrupt them."""
        deadline = time.monotonic() + self.grace_s
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
