"""Fixtures of the trajectory tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from forgekit.models import Gateway
from tests.scripted import scripted_gateway


@pytest.fixture
def gateway_factory(tmp_path: Path):
    def make(replies: Any, **kw: Any) -> Gateway:
        return scripted_gateway(replies, root=tmp_path, **kw)[0]

    return make
