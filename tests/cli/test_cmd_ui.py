"""`forgekit ui`: a real MLflow UI on loopback, its URL printed, stopped cleanly by SIGTERM."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_forgekit_ui_prints_url_and_stops_on_sigterm(store: str, tmp_path: Path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": store, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "forgekit.cli.main", "ui"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        url = None
        for line in proc.stdout:  # waits on the process's own output, not on a timer
            if line.startswith("MLflow UI: "):
                url = line.split()[2]
                break
        assert url and url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/health", timeout=2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
