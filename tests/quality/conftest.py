"""Fixtures of the quality tests: a gateway over a scripted model double whose script
function sees every request (so it can answer as a candidate, a judge or a critic)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from forgekit.core.config import Price
from forgekit.core.context import MemorySink, RunContext
from forgekit.core.samples import Sample
from forgekit.models.sources import CompletionRequest
from tests.scripted import scripted_gateway


class Harness:
    """A scripted gateway, a sink and a context factory."""

    def __init__(self, fn: Callable[[CompletionRequest], Any]) -> None:
        self.gateway, self.source = scripted_gateway(
            fn,
            aliases={"m": "scripted/m", "judge": "scripted/judge", "other": "scripted/other"},
            price=Price(input_per_1k=1.0, output_per_1k=2.0),
            max_retries=0,
        )
        self.sink = MemorySink()

    def ctx(self, sample: Sample, **kw: Any) -> RunContext:
        return RunContext(gateway=self.gateway, sink=self.sink, model="m", sample=sample, **kw)

    @property
    def requests(self) -> list[CompletionRequest]:
        return self.source.requests

    def notes(self, kind: str) -> list[dict[str, Any]]:
        return [e.data for e in self.sink.events if e.type == "note" and e.kind == kind]


@pytest.fixture
def harness() -> Callable[[Callable[[CompletionRequest], Any]], Harness]:
    return Harness


@pytest.fixture
def sample() -> Sample:
    return Sample(id="s1", input="What is 2 + 3?", target="5")
