"""`ReplaySource`: a completion source that answers from a recorded trajectory.

Give it to a gateway in place of the real source and re-run the same solver on the same
sample: every request is matched by content (messages, tools, params, call key) against the
recorded model calls of the run and its children, in recorded order, and answered with the
recorded response. No network call is made. A request the recording does not hold raises
`ReplayDivergence` naming the call index and showing the expected and actual request.

Example:
    >>> gw = Gateway(cfg, source=ReplaySource(Trajectory.load(run_id)))  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from forgekit.core.errors import ModelError, ReplayDivergence
from forgekit.core.events import ModelCall
from forgekit.core.messages import Message, ModelResponse
from forgekit.core.redact import redact_text
from forgekit.trajectory.format import secrets_for_lines
from forgekit.trajectory.reader import Trajectory


def request_view(
    messages: list[Message],
    tools: list[dict[str, Any]] | None,
    params: dict[str, Any],
    call_key: dict[str, Any],
) -> dict[str, Any]:
    """The part of a request that replay matches on, as plain JSON data."""
    return {
        "messages": [m.model_dump(mode="json", exclude_none=True) for m in messages],
        "tools": tools or None,
        "params": params or {},
        "call_key": call_key or {},
    }


def _text(view: dict[str, Any], secrets: list[str]) -> str:
    text = json.dumps(view, sort_keys=True, indent=1, ensure_ascii=False, default=str)
    return redact_text(text, secrets)


class ReplaySource:
    """Answers requests from the model calls recorded in one or more trajectories.

    Args:
        recording: a `Trajectory`, a run file path or run id, or a list of trajectories.
        runs_dir: where to find a run given by id.

    Attributes:
        served: how many requests were answered. remaining: recorded calls not yet used.
    """

    def __init__(
        self,
        recording: Trajectory | str | Path | Iterable[Trajectory],
        runs_dir: str | Path | None = None,
    ) -> None:
        if isinstance(recording, (str, Path)):
            recording = Trajectory.load(recording, runs_dir)
        trajs = [recording] if isinstance(recording, Trajectory) else list(recording)
        self._secrets = secrets_for_lines()
        self.calls: list[ModelCall] = [
            e for t in trajs for e in t.all_events() if isinstance(e, ModelCall)
        ]
        self._keys = [
            _text(request_view(c.messages, c.tools, c.params, c.call_key), self._secrets)
            for c in self.calls
        ]
        self._used = [False] * len(self.calls)
        self._lock = threading.Lock()
        self.served = 0

    @property
    def remaining(self) -> int:
        return self._used.count(False)

    async def complete(self, request: Any) -> ModelResponse:
        """Answer one `CompletionRequest` from the recording."""
        key = _text(
            request_view(request.messages, request.tools, request.params, request.call_key),
            self._secrets,
        )
        with self._lock:
            index = self.served
            match = next(
                (i for i, k in enumerate(self._keys) if not self._used[i] and k == key), None
            )
            if match is None:
                raise self._divergence(index, key)
            self._used[match] = True
            self.served += 1
        call = self.calls[match]
        if call.error is not None:
            # status 400: a recorded failure is replayed once, not retried
            raise ModelError(
                f"replayed error: {call.error}", alias=call.alias, status=400, retries=call.retries
            )
        return ModelResponse(
            text=call.text,
            tool_calls=[t.model_copy() for t in call.tool_calls],
            usage=call.usage.model_copy(),
            model=call.model,
            alias=call.alias,
            cached=call.cached,
            retries=call.retries,
            finish_reason=call.finish_reason,
        )

    def _divergence(self, index: int, actual: str) -> ReplayDivergence:
        nxt = next((i for i, used in enumerate(self._used) if not used), None)
        if nxt is None:
            return ReplayDivergence(
                f"replay diverged at model call #{index}: the recording holds "
                f"{len(self.calls)} model calls and all were used; the solver asked for "
                f"another:\n{actual}",
                step=index,
                expected=None,
                actual=actual,
            )
        expected = self._keys[nxt]
        call = self.calls[nxt]
        diff = "\n".join(
            difflib.unified_diff(
                expected.splitlines(),
                actual.splitlines(),
                "expected (recorded)",
                "actual (this run)",
                lineterm="",
                n=2,
            )
        )
        return ReplayDivergence(
            f"replay diverged at model call #{index}: no recorded call matches this request. "
            f"Next recorded call: run {call.run_id} seq {call.seq} (alias {call.alias!r}). "
            f"Differences (- recorded, + actual):\n{diff}",
            step=index,
            expected=json.loads(expected),
            actual=json.loads(actual),
        )
