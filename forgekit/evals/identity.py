"""Run identity: what an evaluation and each of its results are keyed by.

- An evaluation's identity hashes each solver's real config (from the objects), the
  scorers' configs, the task set's contents, the models, epochs, limits, seed and pass
  threshold. Nothing in it depends on forgekit's version or on a file's text.
- Each result record carries a ``run_key`` (the solver's config hash, the sample's input
  side, its seed, the limits) and a ``score_key`` (the whole sample, the scorers'
  configs, the pass threshold). A finished record is reused only when its ``run_key``
  matches; when only its ``score_key`` differs (a new target, a scorer's parameter), the
  stored answer is scored again and no solver runs. Anything else runs again, so a stale
  result is never returned.
"""

from __future__ import annotations

from typing import Any

from forgekit.core.hashing import stable_hash
from forgekit.core.samples import Sample
from forgekit.evals.sample_result import SampleResult

REUSE = "reuse"
RESCORE = "rescore"


def sample_hashes(sample: Sample) -> tuple[str, str]:
    """(`sample_hash`, `input_hash`) from one dump of the sample."""
    data = sample.model_dump(mode="json")
    target = data.pop("target", None)
    inp = stable_hash(data)
    return stable_hash([inp, target]), inp


def sample_hash(sample: Sample) -> str:
    """Hash of everything in a sample (input, target, choices, metadata, files, ...)."""
    return sample_hashes(sample)[0]


def input_hash(sample: Sample) -> str:
    """Hash of what a solver sees of a sample: all of it except the target."""
    return sample_hashes(sample)[1]


def taskset_hash(samples: list[Sample], hashes: list[str] | None = None) -> str:
    """Hash of a task set's contents, in order (from their `sample_hash`es if known)."""
    return stable_hash(hashes if hashes is not None else [sample_hash(s) for s in samples])


def run_key(solver_hash: str, input_hash: str, seed: int, limits: dict[str, Any]) -> str:
    """What a solver's answer depends on: the solver, what it sees of the sample (see
    `input_hash`), the sample's seed and the per-sample limits."""
    return stable_hash([solver_hash, input_hash, seed, limits])


def score_key(sample_hash: str, scorers_hash: str, pass_threshold: float) -> str:
    """What a score depends on besides the answer: the whole sample (its `sample_hash`),
    the scorers' configs and the pass threshold."""
    return stable_hash([sample_hash, scorers_hash, pass_threshold])


def reuse_of(rec: SampleResult, run: str, score: str) -> str | None:
    """How a stored finished record serves the current run: `REUSE` as is, `RESCORE`
    (same answer, scored again), or None (run again). Records written before run keys
    existed have none and run again."""
    if rec.run_key != run:
        return None
    if rec.score_key == score:
        return REUSE
    return RESCORE


def eval_identity(
    *,
    solvers: list[tuple[str, str]],
    scorers: list[dict[str, Any]],
    taskset: str,
    models: list[str],
    epochs: int,
    limits: dict[str, Any],
    seed: int,
    pass_threshold: float,
) -> str:
    """The hash that names an evaluation (`<name>-<hash[:10]>`)."""
    return stable_hash(
        {
            "solvers": [[label, h] for label, h in solvers],
            "scorers": scorers,
            "taskset": taskset,
            "models": list(models),
            "epochs": epochs,
            "limits": limits,
            "seed": seed,
            "pass_threshold": pass_threshold,
        }
    )
