"""Triggers: job-file parsing, `after` cycles, parameter checks, and firing through the
scheduler with real files (watchfiles), a real HTTP client and a real health endpoint
(`forgekit schedule` end to end: tests/cli/test_cmd_schedule.py)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from forgekit.core.errors import ConfigError
from forgekit.pipelines import (
    FakeClock,
    Scheduler,
    load_job,
    load_jobs,
    notebook_parameters,
    read_runs,
    read_trigger_state,
)
from forgekit.pipelines.triggers import check_parameters
from forgekit.pipelines.webhook import sign
from tests.pipelines.job_files import Recorder, write_job
from tests.waiting import wait_for


def _running(sched: Scheduler) -> threading.Thread:
    sched.start()
    t = threading.Thread(target=sched.run, daemon=True)
    t.start()
    return t


def _stop(sched: Scheduler, t: threading.Thread) -> None:
    sched.stop()
    t.join(15)
    assert not t.is_alive()


# ---- job files ---------------------------------------------------------------------------


def test_triggers_parse_one_or_many_and_yaml_on_key(proj: Path) -> None:
    write_job(proj, "up", "schedule: {cron: '0 0 3 * * *'}\n")
    f = write_job(
        proj,
        "down",
        "watch: {paths: [data], patterns: ['*.jsonl'], debounce_s: 0.5}\n"
        "webhook:\n  - {path: /hooks/a, secret_env: A_SECRET}\n"
        "  - {path: /hooks/b, secret_env: B_SECRET, jitter_s: 3}\n"
        "after:\n  job: up\n  on: failure\n"
        "when_up: {url: 'http://127.0.0.1:9/health', every_s: 5}\n"
        "overlap: queue\n",
    )
    job = load_job(f)
    assert [w.path for w in job.webhook] == ["/hooks/a", "/hooks/b"]
    assert job.after[0].on == "failure" and job.after[0].job == "up"  # YAML's `on` = true
    assert job.watch[0].param == "changed_paths" and job.overlap_policy() == "queue"
    assert job.has_triggers() and job.schedule is None
    assert [j.name for j in load_jobs(proj / "pipelines")] == ["down", "up"]


def test_bad_trigger_key_names_file_line_and_key(proj: Path) -> None:
    f = write_job(proj, "bad", "webhook:\n  path: /hooks/x\n  secret: S\n")
    with pytest.raises(ConfigError) as e:
        load_job(f)
    assert e.value.line == 2 and "webhook" in (e.value.key or "")
    assert "secret" in str(e.value) and "bad.yaml:2" in str(e.value)


def test_after_cycle_is_rejected_at_load_naming_the_jobs(proj: Path) -> None:
    write_job(proj, "a", "after: {job: c}\n")
    write_job(proj, "b", "after: {job: a, on: any}\n")
    write_job(proj, "c", "after: {job: b}\n")
    write_job(proj, "d", "after: {job: a}\n")  # hangs off the cycle; not part of it
    with pytest.raises(ConfigError) as e:
        load_jobs(proj / "pipelines")
    msg = str(e.value)
    assert "form a cycle: a -> b -> c -> a (" in msg  # d hangs off it, is not in it
    assert e.value.file and e.value.file.endswith(".yaml") and e.value.line == 2


def test_after_an_unknown_job_is_an_error(proj: Path) -> None:
    write_job(proj, "b", "after: {job: nope}\n")
    with pytest.raises(ConfigError, match="'nope' is not among the loaded jobs"):
        load_jobs(proj / "pipelines")


def test_a_follower_of_a_disabled_job_loads_and_never_fires(proj: Path) -> None:
    write_job(proj, "a", "enabled: false\nschedule: {cron: '* * * * * *'}\n")
    write_job(proj, "b", "after: {job: a}\n")
    rec = Recorder()
    sched = Scheduler(load_jobs(proj / "pipelines"), execute=rec, inline=True)
    assert [j.name for j in sched.jobs] == ["b"]
    sched.start()
    sched.fire("a", "manual", "manual", "not scheduled")
    sched.tick()
    assert rec.calls == [] and any("unknown or disabled job 'a'" in m for m in sched.log)


def test_notebook_parameters_and_checks(proj: Path) -> None:
    allowed = notebook_parameters(proj / "notebooks" / "params.ipynb")
    assert allowed == {"n": 2, "greeting": "hello"}
    assert check_parameters({"n": 5, "greeting": "x"}, allowed) == []
    (p,) = check_parameters({"n": 5, "colour": "red"}, allowed)
    assert "unknown parameter(s) 'colour'" in p and "takes: greeting, n" in p
    (p,) = check_parameters({"n": "five"}, allowed)
    assert "'n' should be a int" in p


# ---- firing ------------------------------------------------------------------------------


def test_burst_of_20_writes_runs_once_with_the_changed_paths(proj: Path) -> None:
    data = proj / "data"
    data.mkdir()
    job = load_job(
        write_job(proj, "w", "watch: {paths: [data], patterns: ['*.jsonl'], debounce_s: 0.4}\n")
    )
    rec = Recorder()
    sched = Scheduler([job], execute=rec)
    t = _running(sched)
    try:
        for i in range(20):  # a burst over 5 files, plus files the pattern ignores
            (data / f"part{i % 5}.jsonl").write_text(json.dumps({"i": i}) + "\n")
            (data / "notes.txt").write_text(str(i))
        wait_for(lambda: len(rec.calls) == 1, what="the watch run")
        # one more change later: a second run with only that file, so nothing else fired
        (data / "late.jsonl").write_text("{}\n")
        wait_for(lambda: len(rec.calls) == 2, what="the second watch run")
    finally:
        _stop(sched, t)
    first, second = rec.calls
    assert first["trigger"] == "watch"
    assert first["parameters"] == {
        "changed_paths": [str((data / f"part{i}.jsonl").resolve()) for i in range(5)]
    }
    assert first["reason"].startswith("5 files changed: data/part0.jsonl")
    assert second["parameters"] == {"changed_paths": [str((data / "late.jsonl").resolve())]}
    state = read_trigger_state(job)
    assert state["watch[0]"]["outcome"] == "started" and "late.jsonl" in state["watch[0]"]["reason"]


def test_signed_webhook_runs_with_params_and_bad_ones_do_not(
    proj: Path, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("FK_TEST_HOOK", "s3cret")
    job = load_job(write_job(proj, "hook", "webhook: {path: /hooks/go, secret_env: FK_TEST_HOOK}\n"))
    rec = Recorder()
    sched = Scheduler([job], execute=rec, webhook_port=0)
    t = _running(sched)
    try:
        assert sched.webhooks.httpd.server_address[0] == "127.0.0.1"
        url = sched.webhook_url + "/hooks/go"
        body = json.dumps({"n": 7, "greeting": "hi"}).encode()
        with httpx.Client(timeout=10) as http:
            assert http.post(url, content=body).status_code == 401
            wrong = {"X-Forgekit-Signature": sign("not-the-secret", body)}
            assert http.post(url, content=body, headers=wrong).status_code == 401
            tampered = {"X-Forgekit-Signature": sign("s3cret", body)}
            r = http.post(url, content=body.replace(b"7", b"8"), headers=tampered)
            assert r.status_code == 401
            bad = json.dumps({"n": 1, "colour": "red"}).encode()
            r = http.post(url, content=bad, headers={"X-Forgekit-Signature": sign("s3cret", bad)})
            assert r.status_code == 400 and "unknown parameter(s) 'colour'" in r.json()["error"]
            assert http.get(url).status_code == 405
            other = sched.webhook_url + "/hooks/nope"
            assert http.post(other, content=body, headers=tampered).status_code == 404
            assert rec.calls == []
            # GitHub's header name works too
            r = http.post(url, content=body, headers={"X-Hub-Signature-256": sign("s3cret", body)})
            assert r.status_code == 202 and r.json() == {"accepted": True, "job": "hook"}
            wait_for(lambda: len(rec.calls) == 1, what="the webhook run")
    finally:
        _stop(sched, t)
    (call,) = rec.calls
    assert call["trigger"] == "webhook" and call["parameters"] == {"n": 7, "greeting": "hi"}
    assert "POST /hooks/go from 127.0.0.1" in call["reason"]
    assert sched.webhooks.rejected == 3
    assert sum("rejected (401" in r.getMessage() for r in caplog.records) == 3


def test_webhook_without_its_secret_variable_fails_at_start(proj: Path, monkeypatch) -> None:
    monkeypatch.delenv("FK_UNSET_SECRET", raising=False)
    job = load_job(write_job(proj, "h", "webhook: {path: /h, secret_env: FK_UNSET_SECRET}\n"))
    with pytest.raises(ConfigError, match="FK_UNSET_SECRET is not set"):
        Scheduler([job], execute=Recorder(), webhook_port=0).start()


def test_a_missing_watched_folder_fails_at_start_naming_it(proj: Path) -> None:
    job = load_job(write_job(proj, "w", "watch: {paths: [no-such-dir]}\n"))
    with pytest.raises(ConfigError, match="watched path not found: .*no-such-dir") as e:
        Scheduler([job], execute=Recorder()).start()
    assert e.value.key == "watch.paths[0]" and e.value.file.endswith("w.yaml")


@pytest.mark.parametrize("upstream,expected", [("completed", ["a", "b", "any"]),
                                               ("failed", ["a", "c", "any"])])
def test_after_chain_follows_the_upstream_status(
    proj: Path, upstream: str, expected: list[str]
) -> None:
    write_job(proj, "a", "schedule: {cron: '0 0 0 1 1 *'}\n")
    write_job(proj, "b", "after: {job: a, on: success}\n")
    write_job(proj, "c", "after: {job: a, on: failure}\n")
    write_job(proj, "any", "after: {job: a, on: any}\n")
    rec = Recorder(status={"a": upstream})
    sched = Scheduler(load_jobs(proj / "pipelines"), execute=rec, inline=True)
    sched.start()
    sched.fire("a", "manual", "manual", "by the test")
    sched.tick()  # a runs (inline) and fires its followers
    sched.tick()  # the followers run
    assert sorted(rec.jobs()) == sorted(expected) and rec.jobs()[0] == "a"
    follower = next(c for c in rec.calls if c["job"] == expected[1])
    assert follower["trigger"] == "after" and f"a run r1 {upstream}" == follower["reason"]


def test_event_firings_respect_overlap_queue_merge_and_skip(proj: Path) -> None:
    job = load_job(write_job(proj, "q", "webhook: {path: /q, secret_env: X}\noverlap: queue\n"))
    rec = Recorder(block=True)
    sched = Scheduler([job], execute=rec)
    sched._states = {}  # no sources: fire by hand
    from forgekit.pipelines.scheduler import _JobState

    sched._states["q"] = _JobState(job, None, None)
    sched.fire("q", "watch[0]", "watch", "1 file changed: a", {"changed_paths": ["/a"]})
    sched.tick()
    wait_for(lambda: len(rec.calls) == 1)
    sched.fire("q", "watch[0]", "watch", "1 file changed: b", {"changed_paths": ["/b"]})
    sched.fire("q", "watch[0]", "watch", "1 file changed: c", {"changed_paths": ["/c"]})
    sched.fire("q", "webhook[0]", "webhook", "POST /q", {"n": 1})
    sched.tick()
    rec.release.set()
    sched._states["q"].thread.join(5)
    sched.tick()  # the queued run starts with the merged paths
    sched._states["q"].thread.join(5)
    assert [c["trigger"] for c in rec.calls] == ["watch", "queued"]
    assert rec.calls[1]["parameters"] == {"changed_paths": ["/b", "/c"]}
    assert "watch: 1 file changed: b; then 1 file changed: c" in rec.calls[1]["reason"]
    (skipped,) = [r for r in read_runs(job.runs_root() / "runs.jsonl") if r.status == "skipped"]
    assert skipped.trigger == "webhook" and skipped.reason == "POST /q"
    sched.stop()
    sched.drain()


def test_event_jitter_delays_the_start(proj: Path) -> None:
    clock = FakeClock(datetime(2026, 12, 1, tzinfo=UTC))
    job = load_job(write_job(proj, "j", "after: {job: j0}\n"))
    write_job(proj, "j0", "schedule: {cron: '0 0 0 1 1 *'}\n")
    rec = Recorder()
    sched = Scheduler(load_jobs(proj / "pipelines"), clock=clock, execute=rec, inline=True)
    sched.start()
    sched.fire(job.name, "after[0]", "after", "x", jitter_s=10)
    sched.tick()
    assert rec.calls == []
    wake = sched.next_wake()
    assert wake is not None and timedelta(0) <= wake - clock.now() < timedelta(seconds=10)
    clock.t = wake
    sched.tick()
    assert rec.jobs() == ["j"]


def test_when_up_fires_when_the_endpoint_turns_healthy(proj: Path) -> None:
    health = {"code": 503}

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(health["code"])
            self.end_headers()

        def log_message(self, *a) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/health"
    job = load_job(write_job(proj, "up", f"when_up: {{url: '{url}', every_s: 0.05}}\n"))
    rec = Recorder()
    sched = Scheduler([job], execute=rec)
    t = _running(sched)
    try:
        (watch,) = sched._sources
        wait_for(lambda: watch.checks >= 2, what="health checks")
        assert rec.calls == []  # down: nothing
        health["code"] = 200
        wait_for(lambda: len(rec.calls) == 1, what="the when_up run")
        n = watch.checks
        wait_for(lambda: watch.checks >= n + 3)
        assert len(rec.calls) == 1  # still up: no second run
        health["code"] = 500
        wait_for(lambda: watch.up is False)
        health["code"] = 204
        wait_for(lambda: len(rec.calls) == 2, what="the second when_up run")
    finally:
        _stop(sched, t)
        server.shutdown()
        server.server_close()
    assert rec.calls[0]["trigger"] == "when_up"
    assert "is up (HTTP 200) after being down (HTTP 503)" in rec.calls[0]["reason"]
