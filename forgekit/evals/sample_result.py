"""`SampleResult`: the result of one model x solver x sample x epoch, as the runner
produces it, the results log stores it and the results table holds it.

On disk (a line of `results.jsonl`, a row of `results.parquet`) it keeps the flat shape
older forgekit wrote and read: the same field names, `scores` as JSON text. Logs written
before the type existed load into it; what it writes, older readers read.

Example:
    >>> r = SampleResult(model="local", solver="qa", sample_id="q1", status="completed",
    ...                  score=1.0, scores=[Score(scorer="match", value=True)])
    >>> r.row()["scores"]
    '[{"answer": null, "error": null, "explanation": null, "metadata": {}, "scorer": "match", "value": true}]'
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from forgekit.core.events import RunStatus
from forgekit.core.samples import Score
from forgekit.core.totals import RunTotals

# statuses that count as finished: a resume does not run them again
FINISHED = ("completed", "failed")
# failures that say nothing about the solver: a resume runs those samples again (a
# provider that was down, rate limits, an alias since added to forgekit.yaml)
TRANSIENT_ERRORS = ("ModelUnavailable:", "UnknownAlias:", "RateLimitError")

ResultKey = tuple[str, str, str, int]

# the `scores` column's text: sorted keys, json.dumps's separators (one encoder for all)
_SCORES_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, sort_keys=True)


def score_data(s: Score) -> dict[str, Any]:
    """`s.model_dump(mode="json")`, built directly for the common score (no metadata, a
    plain value): the same dict, at a fraction of the cost (it runs for every result
    line and every row of the results table)."""
    v = s.value
    if type(s) is not Score or s.metadata or not (
        v is None or type(v) in (bool, str) or (type(v) is float and math.isfinite(v))
    ):
        return s.model_dump(mode="json")
    return {"scorer": s.scorer, "value": v, "answer": s.answer,
            "explanation": s.explanation, "error": s.error, "metadata": {}}


class SampleResult(BaseModel):
    """One sample's result (a row of `EvalResults.df`).

    Attributes:
        eval_id, suite_hash: the evaluation it belongs to.
        model, solver, sample_id, epoch: what ran (`key`); sample_index: its place in
            the task set; seed: the sample's seed.
        status: completed, failed or budget-exceeded; error: why it did not complete.
        input, answer: the sample's input text and the solver's answer (redacted).
        target: the sample's target as JSON text.
        score, passed: the primary scorer's value as a float (0 for a failed sample) and
            whether it reached the pass threshold; scores: every scorer's `Score` (JSON
            text on disk); score_errors: scorers that could not decide.
        input_tokens, output_tokens, cost_usd, model_calls, steps: what the sample spent
            (children and judges included; see `totals`); latency_s: its wall time.
        run_id, trajectory: its trajectory (id and file); finished_at: when (epoch s).
        solver_hash, sample_hash, run_key, score_key: what the result is valid for
            (`forgekit.evals.identity`); None in results older than resume keys.
    """

    # a result row is data read back from files of other versions: unknown keys (a
    # newer writer's) are ignored rather than refused
    model_config = ConfigDict(extra="ignore")

    eval_id: str = ""
    suite_hash: str = ""
    model: str
    solver: str
    sample_id: str
    sample_index: int = 0
    epoch: int = 0
    seed: int | None = None
    status: RunStatus
    error: str | None = None
    input: str | None = None
    answer: str | None = None
    target: str | None = None
    score: float | None = None
    passed: bool | None = None
    scores: list[Score] = Field(default_factory=list)
    score_errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    model_calls: int = 0
    steps: int = 0
    run_id: str | None = None
    trajectory: str | None = None
    finished_at: float | None = None
    solver_hash: str | None = None
    sample_hash: str | None = None
    run_key: str | None = None
    score_key: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_defaults(cls, data: Any) -> Any:
        # a Parquet row has every column, null where an older writer had no value
        if isinstance(data, dict):
            nulls = [k for k in _NOT_NULL if data.get(k, 0) is None]
            if nulls:
                return {k: v for k, v in data.items() if k not in nulls}
        return data

    @field_validator("scores", mode="before")
    @classmethod
    def _scores_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else []
        return value

    @field_serializer("scores")
    def _scores_as_text(self, scores: list[Score]) -> str:
        return _SCORES_ENCODER.encode([score_data(s) for s in scores])

    # -- views ----------------------------------------------------------------------------
    @property
    def key(self) -> ResultKey:
        """(model, solver, sample_id, epoch): one cell of the grid."""
        return (self.model, self.solver, self.sample_id, self.epoch)

    @property
    def finished(self) -> bool:
        """Finished for good: a resume does not run it again (completed, or failed for a
        reason that says something about the solver)."""
        return self.status in FINISHED and not self.transient

    @property
    def transient(self) -> bool:
        """Failed for a passing reason (provider down, rate limit, unknown alias): a
        resume runs it again."""
        error = self.error or ""
        return self.status == "failed" and (
            error.startswith(TRANSIENT_ERRORS[:2]) or TRANSIENT_ERRORS[2] in error
        )

    @property
    def totals(self) -> RunTotals:
        """What the sample spent, as `RunTotals` (its `latency_s` is the sample's wall
        time: the results row has no model time)."""
        return RunTotals(
            model_calls=self.model_calls, steps=self.steps, input_tokens=self.input_tokens,
            output_tokens=self.output_tokens, cost_usd=self.cost_usd,
            duration_s=self.latency_s,
        )

    def row(self) -> dict[str, Any]:
        """The flat row stored on disk (`scores` as JSON text)."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        """One line of `results.jsonl`."""
        return self.model_dump_json()


_NOT_NULL = frozenset(
    name for name, f in SampleResult.model_fields.items()
    if not f.is_required() and f.get_default(call_default_factory=True) is not None
)



def _kind(annotation: Any) -> str:
    """A field's column type: bool, int, float, or str (text, JSON text, literals)."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(args) == 1:
        annotation = args[0]
    for t in (bool, int, float):  # bool first: it is an int
        if annotation is t:
            return t.__name__
    return "str"


# the results table's column types, from the fields
COLUMN_KINDS: dict[str, str] = {
    name: _kind(f.annotation) for name, f in SampleResult.model_fields.items()
}


def result_schema() -> dict[str, Any]:
    """The polars schema of the results table (polars imported on use)."""
    import polars as pl

    kinds = {"str": pl.Utf8, "int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean}
    return {k: kinds[v] for k, v in COLUMN_KINDS.items()}


def results_frame(results: Iterable[SampleResult]) -> Any:
    """A polars DataFrame of results (the columns of `EvalResults.df`)."""
    import polars as pl

    return pl.DataFrame([r.row() for r in results], schema=result_schema(), strict=False)


def lines_frame(lines: list[str]) -> Any:
    """The same table as `results_frame`, from the results' JSON lines (`to_json()`):
    parsed by polars in one pass, where `results_frame` dumps every record to a dict
    first (~3x the time; the runner already holds the lines it wrote to the log)."""
    import io

    import polars as pl

    if not lines:
        return results_frame([])
    data = io.BytesIO("\n".join(lines).encode("utf-8"))
    return pl.read_ndjson(data, schema=result_schema())


class SampleLine:
    """A finished result as worker processes send it to the parent: its line of
    `results.jsonl` (`SampleResult.to_json()`, made in the worker) and the few fields the
    parent reads (key, status, score, totals). The parent dedupes, counts and writes it
    without rebuilding the pydantic object (pickling one `SampleResult` there and back
    costs ~70 us of CPU, this ~4 us); `result()` parses it when wanted.

    Example:
        >>> r = SampleResult(model="m", solver="s", sample_id="a", status="completed")
        >>> SampleLine.of(r).result() == r
        True
    """

    __slots__ = ("key", "status", "score", "counts", "line")

    def __init__(self, key: ResultKey, status: str, score: float | None,
                 counts: tuple[int, int, int, int, float, float], line: str) -> None:
        self.key = key
        self.status = status
        self.score = score
        self.counts = counts  # model_calls, steps, input/output tokens, cost, latency
        self.line = line

    @classmethod
    def of(cls, rec: SampleResult, line: str | None = None) -> SampleLine:
        """The line of `rec` (`line`: its `to_json()`, when already made)."""
        return cls(
            rec.key, rec.status, rec.score,
            (rec.model_calls, rec.steps, rec.input_tokens, rec.output_tokens, rec.cost_usd,
             rec.latency_s),
            rec.to_json() if line is None else line,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (SampleLine, (self.key, self.status, self.score, self.counts, self.line))

    @property
    def totals(self) -> RunTotals:
        """What the sample spent (as `SampleResult.totals`)."""
        calls, steps, tin, tout, cost, latency = self.counts
        return RunTotals(model_calls=calls, steps=steps, input_tokens=tin, output_tokens=tout,
                         cost_usd=cost, duration_s=latency)

    def to_json(self) -> str:
        """Its line of `results.jsonl`."""
        return self.line

    def result(self) -> SampleResult:
        """The `SampleResult` it holds."""
        return SampleResult.model_validate_json(self.line)
