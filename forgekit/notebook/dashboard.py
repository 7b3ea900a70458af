"""`RunDashboard`: live progress of a run or an evaluation, then its comparison.

Feed it from anything: an eval runner calls `record(rec)` per finished sample (or
`update(...)` with totals), an `EventBus` drives it after `attach(bus)`, and
`show_results(results)` turns it into the comparison table and accuracy-vs-cost plot.
Calls may come from any thread; pushes to the front end are throttled.

Example:
    >>> dash = RunDashboard(title="gsm8k", total=20)
    >>> dash.update(done=5, correct=3, cost=0.002)
    >>> dash.accuracy
    0.6
"""

from __future__ import annotations

import json
import threading
import time
from html import escape
from pathlib import Path
from typing import Any

from forgekit.notebook.live import LiveView

_MAX_ERRORS = 20


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if v != v else v  # NaN -> None


def _plot_svg(rows: list[dict[str, Any]]) -> str:
    """The evals layer's accuracy-vs-cost plot of the result rows (totals per cell): cost
    in USD, tokens when every model is free (a local one), never an axis of rounding noise."""
    from forgekit.evals.frontier_plot import frontier_svg

    if any((_num(r.get("cost_usd")) or 0) > 0 for r in rows):
        cost, label = "cost_usd", "total cost (USD)"
    elif any((_num(r.get("tokens")) or 0) > 0 for r in rows):
        cost, label = "tokens", "total tokens (every model costs $0)"
    else:
        cost, label = "cost_usd", "cost (USD): $0 for every cell"
    return frontier_svg(rows, cost=cost, label="label", cost_label=label, size=(5.6, 3.4))


class RunDashboard(LiveView):
    """Live counters (samples done, accuracy so far, cost so far, errors) and, when the
    run is over, a comparison table and an accuracy-vs-cost plot.

    Args:
        title: shown above the counters.
        total: samples expected (can be set later with `update(total=...)`).
    """

    widget_name = "dashboard"

    def __init__(self, title: str = "run", total: int | None = None) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self.title = title
        self.total = total
        self.done = 0
        self.scored = 0
        self.correct = 0.0
        self.cost = 0.0
        self.errors = 0
        self.error_messages: list[str] = []
        self.status = "running"
        self.message = ""
        self.rows: list[dict[str, Any]] = []
        self._plot: tuple[list[dict[str, Any]] | None, str] = (None, "")  # (rows, svg)
        self.cells: dict[str, dict[str, float]] = {}
        self._t0 = time.monotonic()
        self._top_runs: set[str] = set()
        self._following = threading.Event()

    # -- feeding it ---------------------------------------------------------------------
    def update(
        self,
        *,
        done: int | None = None,
        total: int | None = None,
        correct: float | None = None,
        scored: int | None = None,
        cost: float | None = None,
        errors: int | None = None,
        status: str | None = None,
        message: str | None = None,
    ) -> None:
        """Set totals (absolute values; omitted ones keep their value).

        `correct` counts scored samples that were right (or the sum of their scores);
        accuracy is `correct / scored`, where `scored` defaults to `done - errors`.
        """
        with self._lock:
            if total is not None:
                self.total = total
            if done is not None:
                self.done = done
            if correct is not None:
                self.correct = correct
            if cost is not None:
                self.cost = cost
            if errors is not None:
                self.errors = errors
            if scored is not None:
                self.scored = scored
            elif done is not None or errors is not None:
                self.scored = max(self.done - self.errors, 0)
            if status is not None:
                self.status = status
            if message is not None:
                self.message = message
        self.refresh()

    def record(self, rec: dict[str, Any]) -> None:
        """Count one finished sample: an eval runner's result record (keys `status`,
        `score`, `cost_usd`, `error`, `model`, `solver`; missing keys are fine)."""
        with self._lock:
            self.done += 1
            cost = _num(rec.get("cost_usd")) or 0.0
            self.cost += cost
            ok = rec.get("status", "completed") == "completed"
            if not ok:
                self.errors += 1
                if rec.get("error"):
                    self.error_messages = (self.error_messages + [str(rec["error"])])[-_MAX_ERRORS:]
            score = _num(rec.get("score"))
            cell_name = "/".join(str(rec[k]) for k in ("model", "solver") if rec.get(k))
            cell = self.cells.setdefault(
                cell_name or "run",
                {"done": 0, "scored": 0, "correct": 0.0, "cost": 0.0, "errors": 0},
            )
            cell["done"] += 1
            cell["cost"] += cost
            cell["errors"] += 0 if ok else 1
            if score is not None:
                self.scored += 1
                self.correct += score
                cell["scored"] += 1
                cell["correct"] += score
        self.refresh()

    def attach(self, bus: Any) -> Any:
        """Drive the dashboard from a `forgekit.core.bus.EventBus` (`on_event` hook):
        top-level runs count as samples, their cost and status from `RunEnd`, accuracy
        from `ScoreEvent`s. Returns a function that detaches it."""
        return bus.subscribe("on_event", self.on_event)

    def on_event(self, event: Any) -> None:
        """Handle one trajectory event (what `attach` subscribes)."""
        kind = getattr(event, "type", None)
        if kind == "run_start" and getattr(event, "parent_run_id", None) is None:
            self._top_runs.add(event.run_id)
        elif kind == "score":
            value = _num(getattr(event, "value", None))
            if value is not None:
                with self._lock:
                    self.scored += 1
                    self.correct += value
                self.refresh()
        elif kind == "run_end" and (event.run_id in self._top_runs or not self._top_runs):
            with self._lock:
                self.done += 1
                self.cost += event.cost_usd
                if event.status != "completed":
                    self.errors += 1
                    if event.error:
                        self.error_messages = (self.error_messages + [event.error])[-_MAX_ERRORS:]
            self.refresh()

    def follow(
        self, results: str | Path, *, from_start: bool = False, interval_s: float = 0.25
    ) -> threading.Thread:
        """Count records as an eval appends them to its `results.jsonl` (pass the file or
        the eval's output folder). Works with any runner that writes the log, with no
        callback wiring; stops when the dashboard is finished or `stop_following()`.

        Args:
            results: the `results.jsonl` file or the folder holding it.
            from_start: also count records already in the file (default: only new ones).
            interval_s: how often the file is polled.
        """
        path = Path(results)
        if path.is_dir() or path.suffix != ".jsonl":
            path = path / "results.jsonl"
        self._following.clear()
        offset = 0 if from_start or not path.exists() else path.stat().st_size

        def tail() -> None:
            nonlocal offset
            partial = b""
            while not self._following.is_set():
                if path.exists():
                    with open(path, "rb") as f:
                        f.seek(offset)
                        chunk = f.read()
                    offset += len(chunk)
                    partial += chunk
                    *lines, partial = partial.split(b"\n")
                    for line in lines:
                        if line.strip():
                            try:
                                self.record(json.loads(line))
                            except ValueError:
                                continue  # a torn line: the runner writes it again
                if self.status != "running":
                    return
                self._following.wait(interval_s)

        t = threading.Thread(target=tail, name="forgekit-dashboard-follow", daemon=True)
        t.start()
        return t

    def stop_following(self) -> None:
        self._following.set()

    def watch(self, run: Any) -> None:
        """When a `BackgroundRun` (or a concurrent future) ends, show its result (an
        `EvalResults`, via `show_results`) or mark the dashboard failed with the error."""
        future = getattr(run, "future", run)

        def done(f: Any) -> None:
            err = f.exception()
            if err is not None:
                self.finish("failed", f"{type(err).__name__}: {err}")
                return
            value = f.result()
            if value is not None and (hasattr(value, "summary") or isinstance(value, list)):
                self.show_results(value)
            else:
                self.finish()

        future.add_done_callback(done)

    def show_results(self, results: Any) -> None:
        """Finish with a comparison: an `EvalResults` (its `summary()`), a polars frame or
        a list of dicts with `accuracy` and `cost_usd` (`model`/`solver`/`label` name a
        row; `ci_low`/`ci_high`, `errors`, `samples` are shown when present)."""
        summary = results.summary() if hasattr(results, "summary") else results
        rows = summary.to_dicts() if hasattr(summary, "to_dicts") else list(summary)
        out = []
        for r in rows:
            r = dict(r)
            r.setdefault(
                "label", "/".join(str(r[k]) for k in ("model", "solver") if r.get(k)) or "run"
            )
            out.append(
                {
                    k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
                    for k, v in r.items()
                }
            )
        runs = sum(int(_num(r.get("runs", r.get("samples"))) or 0) for r in out)
        with self._lock:
            self.rows = out
            self.status = "done"
            if runs > self.done:  # fewer counted live (or none): the results say how many
                self.done = runs
            if self.total is None or self.total < self.done:
                self.total = self.done
        self.refresh(force=True)

    def finish(self, status: str = "done", message: str = "") -> None:
        """Mark the run over (no comparison)."""
        with self._lock:
            if self.total is None or (status == "done" and self.total < self.done):
                self.total = self.done  # over: what ran is all there is
        self.update(status=status, message=message)
        self.refresh(force=True)

    # -- views --------------------------------------------------------------------------
    @property
    def accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None

    def _cell_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "label": k,
                "done": c["done"],
                "errors": c["errors"],
                "cost_usd": c["cost"],
                "accuracy": c["correct"] / c["scored"] if c["scored"] else None,
            }
            for k, c in self.cells.items()
        ]

    def _svg(self, rows: list[dict[str, Any]]) -> str:
        """The plot of `rows`, drawn once per set of results (state is pushed often)."""
        if not rows:
            return ""
        if self._plot[0] is not rows:
            self._plot = (rows, _plot_svg(rows))
        return self._plot[1]

    def state(self) -> dict[str, Any]:
        with self._lock:
            rows = self.rows
            return {
                "title": self.title,
                "status": self.status,
                "message": self.message,
                "done": self.done,
                "total": self.total,
                "scored": self.scored,
                "accuracy": self.accuracy,
                "cost": self.cost,
                "errors": self.errors,
                "error_messages": list(self.error_messages),
                "elapsed": time.monotonic() - self._t0,
                "cells": self._cell_rows() if len(self.cells) > 1 else [],
                "rows": rows,
                "columns": _columns(rows),
                "plot_svg": self._svg(rows),
            }

    def html(self) -> str:
        s = self.state()
        acc = "-" if s["accuracy"] is None else f"{s['accuracy']:.3f}"
        total = s["total"] if s["total"] is not None else "?"
        parts = [
            "<style>.fk-static-dashboard table{border-collapse:collapse}"
            ".fk-static-dashboard td,.fk-static-dashboard th{border:1px solid #ddd;"
            "padding:2px 8px;text-align:left}</style>"
            f'<div class="fk-static-dashboard"><b>{escape(s["title"])}</b> '
            f"[{escape(s['status'])}] samples {s['done']}/{total} · accuracy {acc} · "
            f"cost ${s['cost']:.6f} · errors {s['errors']}"
        ]
        if s["rows"]:
            cols = s["columns"]
            head = "".join(f"<th>{escape(c)}</th>" for c in cols)
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(_fmt(r.get(c)))}</td>" for c in cols) + "</tr>"
                for r in s["rows"]
            )
            parts.append(f'<table class="fk-table"><tr>{head}</tr>{body}</table>')
            parts.append(s["plot_svg"])
        parts.append("</div>")
        return "".join(parts)

    def __repr__(self) -> str:
        acc = "-" if self.accuracy is None else f"{self.accuracy:.3f}"
        return (
            f"RunDashboard({self.title!r}, {self.status}, done={self.done}/"
            f"{self.total if self.total is not None else '?'}, accuracy={acc}, "
            f"errors={self.errors})"
        )


_PREFERRED = [
    "label",
    "samples",
    "runs",
    "errors",
    "accuracy",
    "ci_low",
    "ci_high",
    "cost_usd",
    "tokens",
    "latency_s",
]


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    keys = [k for k in _PREFERRED if any(k in r for r in rows)]
    extra = [
        k
        for r in rows
        for k in r
        if k not in keys and k not in ("model", "solver") and k.startswith("pass@")
    ]
    return keys + sorted(set(extra))


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)
