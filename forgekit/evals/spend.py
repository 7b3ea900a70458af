"""An evaluation's budget belongs to the evaluation, not to one invocation of it.

Every call an eval pays for is appended to `spend.jsonl` in the eval's folder (one line,
one `os.write`, when the call settles), so what was spent survives a crash, a SIGKILL and
any number of re-runs. `EvalBudget` starts from that total: a re-run of a stopped eval
spends only what is left, and a later run with a larger budget continues from there.

An eval folder written before the ledger existed (or run without a budget) starts from
the cost and tokens of every line of its results log.

So that re-runs cannot each overshoot, a call is held at no less than the largest call
the eval has paid for so far (read back from the ledger too), and until the eval's first
call has settled, calls go one at a time: the total over any number of runs exceeds the
budget by at most one call's actual use beyond its estimate.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from forgekit.models.budget import Budget, Reservation

LEDGER = "spend.jsonl"


def _read_ledger(path: Path) -> tuple[float, int, float, int, bool]:
    """(usd, tokens, largest call usd, largest call tokens, found) over the ledger; a
    torn last line is skipped."""
    if not path.exists():
        return 0.0, 0, 0.0, 0, False
    usd, tokens, top_usd, top_tokens = 0.0, 0, 0.0, 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # torn by a kill mid-write: that call's record is lost, not more
            usd += float(rec.get("usd", 0.0))
            tokens += int(rec.get("tokens", 0))
            if "from" not in rec:  # a carried-over total is not one call
                top_usd = max(top_usd, float(rec.get("usd", 0.0)))
                top_tokens = max(top_tokens, int(rec.get("tokens", 0)))
    return usd, tokens, top_usd, top_tokens, True


def _read_results_log(path: Path) -> tuple[float, int]:
    """Cost and tokens over every line of a results log (every attempt paid for)."""
    usd, tokens = 0.0, 0
    if not path.exists():
        return usd, tokens
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            usd += float(rec.get("cost_usd") or 0.0)
            tokens += int(rec.get("input_tokens") or 0) + int(rec.get("output_tokens") or 0)
    return usd, tokens


def spent_so_far(out_dir: str | Path) -> tuple[float, int]:
    """(USD, tokens) an eval folder has spent over all its runs."""
    out = Path(out_dir)
    usd, tokens, _, _, found = _read_ledger(out / LEDGER)
    if found:
        return usd, tokens
    return _read_results_log(out / "results.jsonl")


class EvalBudget(Budget):
    """A `Budget` that starts from what the eval in `out_dir` has already spent and
    appends every settled call to its ledger."""

    def __init__(
        self, out_dir: str | Path, max_usd: float | None = None, max_tokens: int | None = None
    ) -> None:
        super().__init__(max_usd=max_usd, max_tokens=max_tokens)
        self.path = Path(out_dir) / LEDGER
        usd, tokens = spent_so_far(out_dir)
        _, _, self.largest_usd, self.largest_tokens, found = _read_ledger(self.path)
        self._settled_one = found and (self.largest_usd > 0 or self.largest_tokens > 0)
        self.prior_usd, self.prior_tokens = usd, tokens
        self._spent_usd, self._spent_tokens = usd, tokens
        self._fd: int | None = None
        if not self.path.exists() and (usd or tokens):
            self._write({"usd": usd, "tokens": tokens, "from": "results.jsonl"})

    def _write(self, rec: dict) -> None:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.write(self._fd, (json.dumps(rec) + "\n").encode())

    def _floor(self, est_usd: float, est_tokens: int) -> tuple[float, int]:
        return max(est_usd, self.largest_usd), max(est_tokens, self.largest_tokens)

    def _first_alone(self) -> bool:
        return not self._settled_one

    def settle(self, reservation: Reservation | None, usd: float, tokens: int) -> None:
        with self._lock:
            self.largest_usd = max(self.largest_usd, usd)
            self.largest_tokens = max(self.largest_tokens, tokens)
            self._settled_one = True
        super().settle(reservation, usd, tokens)
        if usd or tokens:
            self._write({"usd": usd, "tokens": tokens, "t": round(time.time(), 3)})

    @property
    def stop_reason(self) -> str | None:
        """Why no further call fits (None while one may): a line for people."""
        if self.max_usd is not None and self.spent_usd >= self.max_usd:
            return f"budget of ${self.max_usd:g} spent (${self.spent_usd:.6f})"
        if self.max_tokens is not None and self.spent_tokens >= self.max_tokens:
            return f"budget of {self.max_tokens} tokens spent ({self.spent_tokens})"
        return None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
