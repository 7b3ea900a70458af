"""Fixtures of the pipeline tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipelines.job_files import trigger_project


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    """A project with a parameterised notebook and an empty pipelines/ folder."""
    return trigger_project(tmp_path)
