"""forgekit.evals: task sets, scorers, suites, the resumable batch runner, results,
comparisons with confidence intervals (`strategy_table`: accuracy against cost with the
Pareto front; `plot_frontier`), and reports."""

from forgekit.evals.evaluation import aevaluate, evaluate
from forgekit.evals.experience import experience_summary
from forgekit.evals.frontier import frontier_table, markdown_table, pareto_front, strategy_table
from forgekit.evals.frontier_plot import plot_frontier
from forgekit.evals.inputs import FunctionSolver
from forgekit.evals.objects import EvalPlan, build_plan
from forgekit.evals.plan import Plan, plan
from forgekit.evals.results import EvalResults, query_evals
from forgekit.evals.runner import Runner, sample_seed
from forgekit.evals.sample_result import SampleResult
from forgekit.evals.scorers import BoundScorer, build_scorer, registered_scorers, scorer
from forgekit.evals.solvers import PromptSolver, build_solver, register_solver
from forgekit.evals.stats import bootstrap_ci, mean_se, paired_test, pass_at_k
from forgekit.evals.suite import Suite, load_suite
from forgekit.evals.task import Task
from forgekit.evals.tasksets import load_samples

__all__ = [
    "BoundScorer",
    "EvalPlan",
    "EvalResults",
    "FunctionSolver",
    "Plan",
    "PromptSolver",
    "Runner",
    "SampleResult",
    "Suite",
    "Task",
    "aevaluate",
    "bootstrap_ci",
    "build_plan",
    "build_scorer",
    "build_solver",
    "evaluate",
    "experience_summary",
    "frontier_table",
    "load_samples",
    "load_suite",
    "markdown_table",
    "mean_se",
    "paired_test",
    "pareto_front",
    "pass_at_k",
    "plan",
    "plot_frontier",
    "query_evals",
    "register_solver",
    "registered_scorers",
    "sample_seed",
    "scorer",
    "strategy_table",
]
