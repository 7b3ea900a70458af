"""forgekit.quality: strategies that spend more model calls to get better answers.

Each strategy is a Solver wrapping any Solver, so they nest and evals can compare
"model X plain" with "model X with best-of-5" on accuracy and cost.

Measuring them is the eval runner's job (a suite names plain and each strategy, see
`evals/quality_strategies.yaml`); `forgekit.evals.strategy_table(results)`,
`markdown_table` and `plot_frontier` turn its `EvalResults` into the accuracy-vs-cost
table and plot.

Example:
    >>> from forgekit.quality import BestOfN, Direct
    >>> solver = BestOfN(Direct("{input}\\nAnswer with a number."), n=5)
"""

from forgekit.quality.best_of_n import AskColleagues, BestOfN
from forgekit.quality.debate import Debate
from forgekit.quality.direct_solver import Direct
from forgekit.quality.experience_pool import ExperiencePool
from forgekit.quality.guardrail import (
    Guardrail,
    LLMValidator,
    SchemaValidator,
    Verdict,
    well_formed,
)
from forgekit.quality.meter import Meter
from forgekit.quality.normalize import extract_choice, extract_number, normalize_answer
from forgekit.quality.pairwise import Pairwise
from forgekit.quality.registry import STRATEGIES, build, from_config
from forgekit.quality.result import StrategyResult
from forgekit.quality.reviewer import ReviewerRetry
from forgekit.quality.strategy import Strategy
from forgekit.quality.voting import VoteResult, majority_vote

__all__ = [
    "STRATEGIES",
    "AskColleagues",
    "BestOfN",
    "Debate",
    "Direct",
    "ExperiencePool",
    "Guardrail",
    "LLMValidator",
    "Meter",
    "Pairwise",
    "ReviewerRetry",
    "SchemaValidator",
    "Strategy",
    "StrategyResult",
    "Verdict",
    "VoteResult",
    "build",
    "extract_choice",
    "extract_number",
    "from_config",
    "majority_vote",
    "normalize_answer",
    "well_formed",
]
