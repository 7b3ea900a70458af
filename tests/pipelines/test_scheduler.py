"""The scheduler: seconds-level firing on a fake clock, overlap, missed runs, stop."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forgekit.pipelines import FakeClock, JobSpec, Scheduler, load_job, read_runs

T0 = datetime(2026, 11, 21, 12, 0, 0, 500000, tzinfo=UTC)


def _job(tmp_path: Path, name: str = "tick", cron: str = "*/2 * * * * *", **sched) -> JobSpec:
    (tmp_path / "nb.ipynb").write_text("{}")
    lines = "".join(f"  {k}: {v}\n" for k, v in sched.items())
    f = tmp_path / f"{name}.yaml"
    f.write_text(f"notebook: nb.ipynb\nschedule:\n  cron: '{cron}'\n{lines}")
    return load_job(f)


class Recorder:
    """An `execute` double that records calls; optionally blocks until released."""

    def __init__(self, block: bool = False) -> None:
        self.calls: list[tuple[str, str, datetime]] = []
        self.release = threading.Event()
        self.started = threading.Event()
        self.block = block

    def __call__(self, job, *, trigger, scheduled_for, interrupt, stopping, **kw):
        self.calls.append((job.name, trigger, scheduled_for))
        self.started.set()
        if self.block:
            while not self.release.wait(0.01):
                if interrupt.is_set():
                    return "interrupted"
        return "done"


def test_seconds_schedule_fires_expected_times_on_fake_clock(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    rec = Recorder()
    a = _job(tmp_path, "every2")
    b = _job(tmp_path, "every3", cron="1-59/3 * * * * *")
    sched = Scheduler([a, b], clock=clock, execute=rec, inline=True)
    sched.run(until=T0 + timedelta(seconds=10))
    slots_a = [s for n, _, s in rec.calls if n == "every2"]
    slots_b = [s for n, _, s in rec.calls if n == "every3"]
    # 12:00:00.5 .. 12:00:10.5 -> :02 :04 :06 :08 :10 and :01 :04 :07 :10
    assert [s.second for s in slots_a] == [2, 4, 6, 8, 10]
    assert [s.second for s in slots_b] == [1, 4, 7, 10]
    assert sched.fired("every2") == 5 and clock.now() == T0 + timedelta(seconds=10)


def test_stagger_and_jitter_delay_firing_repeatably(tmp_path: Path) -> None:
    job = _job(tmp_path, "late", cron="0 * * * * *", stagger_s=5, jitter_s=3)
    fire_times = []
    for _ in range(2):
        clock = FakeClock(T0)

        def ex(job, **kw):
            fire_times.append(clock.now())  # noqa: B023

        Scheduler([job], clock=clock, execute=ex, inline=True).run(until=T0 + timedelta(seconds=70))
    first = fire_times[0]
    assert first == fire_times[1]  # jitter is a function of job and slot
    assert timedelta(seconds=65) <= first - T0.replace(microsecond=0) < timedelta(seconds=68)


def test_no_overlap_under_a_slow_job_skips_and_logs(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    rec = Recorder(block=True)
    job = _job(tmp_path, "slow", cron="* * * * * *")
    sched = Scheduler([job], clock=clock, execute=rec, grace_s=5)
    sched.start()
    for _ in range(5):  # five slots pass while the first run is still going
        clock.advance(1)
        sched.tick()
        assert rec.started.wait(5)
    assert len(rec.calls) == 1
    skipped = [r for r in read_runs(job.runs_root() / "runs.jsonl") if r.status == "skipped"]
    assert len(skipped) == 4 and "still running" in (skipped[0].message or "")
    rec.release.set()
    sched.stop()
    sched.drain()
    assert len(rec.calls) == 1


def test_overlap_queue_runs_one_late_run_after(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    rec = Recorder(block=True)
    job = _job(tmp_path, "q", cron="* * * * * *", overlap="queue")
    sched = Scheduler([job], clock=clock, execute=rec, grace_s=5)
    sched.start()
    for _ in range(3):
        clock.advance(1)
        sched.tick()
    assert rec.started.wait(5) and len(rec.calls) == 1
    assert any("queued" in m for m in sched.log)
    rec.release.set()
    sched._states["q"].thread.join(5)
    sched.tick()  # the job is free: the queued run starts
    sched._states["q"].thread.join(5)
    assert [t for _, t, _ in rec.calls] == ["schedule", "queued"]


@pytest.mark.parametrize("policy,expected", [("run_once", ["missed"]), ("skip", [])])
def test_missed_runs_after_downtime(tmp_path: Path, policy: str, expected: list[str]) -> None:
    job = _job(tmp_path, "m", cron="0 0 * * * *", missed=policy)
    rec = Recorder()
    # first life: one slot served at 13:00
    s1 = Scheduler([job], clock=FakeClock(T0), execute=rec, inline=True)
    s1.run(until=T0 + timedelta(hours=1))
    assert [t for _, t, _ in rec.calls] == ["schedule"]
    rec.calls.clear()
    # down for three hours, then start again at 16:30
    later = FakeClock(T0 + timedelta(hours=4, minutes=30))
    s2 = Scheduler([job], clock=later, execute=rec, inline=True)
    s2.start()
    assert [t for _, t, _ in rec.calls] == expected
    if policy == "skip":
        (r,) = read_runs(job.runs_root() / "runs.jsonl")
        assert r.status == "skipped" and "missed" in (r.message or "")


def test_stop_lets_running_job_finish_within_grace(tmp_path: Path) -> None:
    rec = Recorder(block=True)
    job = _job(tmp_path, "g", cron="* * * * * *")
    sched = Scheduler([job], execute=rec, grace_s=30)  # real clock
    t = threading.Thread(target=sched.run)
    t.start()
    assert rec.started.wait(10)
    sched.stop()
    time.sleep(0.3)  # the scheduler is draining; the job still runs
    assert t.is_alive()
    rec.release.set()
    t.join(10)
    assert not t.is_alive() and len(rec.calls) == 1


def test_grace_over_interrupts(tmp_path: Path) -> None:
    rec = Recorder(block=True)
    job = _job(tmp_path, "i", cron="* * * * * *")
    sched = Scheduler([job], execute=rec, grace_s=0.2)
    t = threading.Thread(target=sched.run)
    t.start()
    assert rec.started.wait(10)
    sched.stop()
    t.join(10)
    assert not t.is_alive()
    assert any("interrupting" in m for m in sched.log)
    assert sched._states["i"].records == ["interrupted"]
