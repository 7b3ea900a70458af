"""Fixtures of the trajectory tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# the helpers module sits beside this file; make it importable under any import mode
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from trajectory_helpers import scripted_gateway  # noqa: E402

from forgekit.models import Gateway


@pytest.fixture
def gateway_factory(tmp_path: Path):
    def make(replies: Any, **kw: Any) -> Gateway:
        return scripted_gateway(tmp_path, replies, **kw)

    return make
