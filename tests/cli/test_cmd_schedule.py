"""`forgekit schedule` as a service: SIGTERM lets a running job finish within the grace or
interrupts it; a signed webhook, an `after` chain and a watched folder run real notebooks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from forgekit.pipelines import read_runs
from forgekit.pipelines.webhook import sign
from tests.pipelines.job_files import NOTEBOOKS, write_job
from tests.waiting import wait_for


@pytest.mark.slow
@pytest.mark.parametrize("grace,status", [("60", "completed"), ("0.5", "interrupted")])
def test_sigterm_to_forgekit_schedule(tmp_path: Path, grace: str, status: str) -> None:
    (tmp_path / "notebooks").mkdir()
    shutil.copy(NOTEBOOKS / "slow.ipynb", tmp_path / "notebooks" / "slow.ipynb")
    (tmp_path / "pipelines").mkdir()
    marker = tmp_path / "started.txt"
    seconds = 1 if status == "completed" else 120
    (tmp_path / "pipelines" / "slow.yaml").write_text(
        f"notebook: notebooks/slow.ipynb\nparameters: {{seconds: {seconds}, "
        f"marker: '{marker}'}}\nschedule:\n  cron: '* * * * * *'\n"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "forgekit.cli.main",
            "schedule",
            "--pipelines",
            str(tmp_path / "pipelines"),
            "--grace",
            grace,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert marker.exists(), "the job never started"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "SIGTERM: stopping" in out and "scheduler stopped" in out
    runs = [
        r
        for r in read_runs(tmp_path / ".forgekit" / "pipelines" / "runs.jsonl")
        if r.status != "skipped"
    ]
    assert [r.status for r in runs] == [status]


@pytest.mark.slow
def test_forgekit_schedule_webhook_chain_and_sigterm(proj: Path) -> None:
    """A signed webhook runs `hook` with its parameters; `next` runs after it succeeded;
    `broken` fails, so `never` (on: success) does not run; 20 writes run `watched` with
    the changed path; SIGTERM stops cleanly."""
    import os
    import signal
    import subprocess
    import sys

    import nbformat

    shutil.copy(NOTEBOOKS / "fail.ipynb", proj / "notebooks" / "fail.ipynb")
    write_job(proj, "hook", "webhook: {path: /hooks/hook, secret_env: FK_E2E_SECRET}\n")
    write_job(proj, "next", "parameters: {greeting: chained}\nafter: {job: hook, on: success}\n")
    (proj / "pipelines" / "broken.yaml").write_text(
        "notebook: notebooks/fail.ipynb\nwebhook: {path: /hooks/broken, secret_env: FK_E2E_SECRET}\n"
    )
    write_job(proj, "never", "after: {job: broken, on: success}\n")
    (proj / "data").mkdir()
    write_job(proj, "watched", "watch: {paths: [data], patterns: ['*.jsonl'], debounce_s: 0.3}\n")
    env = {**os.environ, "FK_E2E_SECRET": "e2e-secret",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "forgekit.cli.main", "schedule", "--pipelines",
         str(proj / "pipelines"), "--webhook-port", "0", "--grace", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    log = proj / ".forgekit" / "pipelines" / "runs.jsonl"

    def runs() -> dict[str, list]:
        out: dict[str, list] = {}
        for r in read_runs(log):
            out.setdefault(r.job, []).append(r)
        return out

    try:
        wait_for(lambda: any("webhooks on http://127.0.0.1:" in x for x in lines), 60, "webhooks")
        line = next(x for x in lines if "forgekit: webhooks on" in x)
        base = line.rsplit(" ", 1)[1].strip()
        body = json.dumps({"n": 7, "greeting": "hey"}).encode()
        with httpx.Client(timeout=10) as http:
            assert http.post(base + "/hooks/hook", content=body).status_code == 401
            sig = {"X-Forgekit-Signature": sign("e2e-secret", body)}
            assert http.post(base + "/hooks/hook", content=body, headers=sig).status_code == 202
            empty = {"X-Forgekit-Signature": sign("e2e-secret", b"")}
            assert http.post(base + "/hooks/broken", content=b"", headers=empty).status_code == 202
        for i in range(20):
            (proj / "data" / "tasks.jsonl").write_text(json.dumps({"i": i}) + "\n")
        want = {"hook", "next", "broken", "watched"}
        wait_for(lambda: want <= set(runs()), 180, "the four runs")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = "".join(lines)
    assert "SIGTERM: stopping" in out and "scheduler stopped" in out
    assert "rejected (401, no signature)" in out
    got = runs()
    (hook,) = got["hook"]
    assert hook.status == "completed" and hook.trigger == "webhook"
    assert hook.parameters == {"n": 7, "greeting": "hey"}
    nb = nbformat.read(hook.output_notebook, as_version=4)
    assert "hey 147" in "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    (nxt,) = got["next"]
    assert nxt.status == "completed" and nxt.trigger == "after"
    assert nxt.reason == f"hook run {hook.run_id} completed"
    assert [r.status for r in got["broken"]] == ["failed"]
    assert "never" not in got
    (watched,) = got["watched"]
    assert watched.status == "completed" and watched.trigger == "watch"
    assert watched.parameters == {"changed_paths": [str((proj / "data" / "tasks.jsonl").resolve())]}
