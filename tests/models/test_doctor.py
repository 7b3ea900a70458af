"""The doctor's diagnosis: a missing model file, the local server started and stopped
(the `forgekit doctor` command: tests/cli/test_cmd_doctor.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.models.doctor import diagnose


def test_doctor_missing_model_file_is_essential(project: Path):
    from forgekit.core.config import load_config

    cfg = load_config(env={})
    cfg.models.local_server.model_path = str(project / "missing.gguf")
    report = diagnose(cfg, start_local=False)
    assert not report.ok
    assert "missing.gguf" in report.render()


@pytest.mark.slow
@pytest.mark.integration
def test_doctor_starts_the_local_server(project: Path):
    from forgekit.core.config import load_config

    cfg = load_config(env={})
    cfg.models.local_server.n_ctx = 1280  # a server of this test's own, stopped after
    report = diagnose(cfg)
    local = next(c for c in report.checks if c.name.startswith("alias local"))
    assert local.status == "ok" and "server healthy" in local.detail
    from forgekit.models.local_server import shared_server

    assert not shared_server(cfg.models.local_server, project).running
