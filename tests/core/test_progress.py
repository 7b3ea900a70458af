"""Progress bars: shown after their delay, quiet when progress is off."""

from __future__ import annotations

import io
import time

import pytest

from forgekit.core.progress import Progress, progress_enabled, set_progress


def test_bar_counts_and_writes_to_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    with Progress("embedding", total=4, unit="text", enabled=True) as p:
        p.update(3)
        p.update(1)
    assert p.n == 4 and "embedding" in err.getvalue() and "4/4" in err.getvalue()


def test_off_and_delayed_bars_print_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    set_progress(False)
    try:
        assert not progress_enabled()
        with Progress("quiet", total=2) as p:
            p.update(2)
    finally:
        set_progress(None)
    with Progress("fast", total=2, delay_s=60, enabled=True) as p:
        p.update(2)  # finished before its delay: no bar
    assert err.getvalue() == ""
    monkeypatch.setenv("FORGEKIT_PROGRESS", "0")
    assert not progress_enabled()


def test_a_wait_of_unknown_length_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    wait = Progress("starting the local model…", unit="s", enabled=True).tick(every_s=0.05)
    time.sleep(0.2)
    wait.close()
    assert "starting the local model" in err.getvalue()
