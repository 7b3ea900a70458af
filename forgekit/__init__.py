"""forgekit: build, run and evaluate LLM agents and RAG pipelines from a notebook.

The names a notebook user types are exported here and imported lazily, so that
`import forgekit` stays fast (heavy libraries load where they are used).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # core
    "Message": "forgekit.core",
    "Sample": "forgekit.core",
    "Answer": "forgekit.core",
    "Score": "forgekit.core",
    "RunContext": "forgekit.core",
    "load_config": "forgekit.core",
    # models
    "Gateway": "forgekit.models",
    "Model": "forgekit.models",
    "Budget": "forgekit.models",
    # trajectory
    "Trajectory": "forgekit.trajectory",
    "TrajectoryStore": "forgekit.trajectory",
    "Recorder": "forgekit.trajectory",
    # rag
    "Index": "forgekit.rag",
    # agents
    "Agent": "forgekit.agents",
    "tool": "forgekit.agents",
    "load_role": "forgekit.agents",
    "GraphBuilder": "forgekit.agents.graph",
    "Workflow": "forgekit.agents.workflow",
    # termination conditions (combine with | and &)
    "MaxSteps": "forgekit.agents",
    "MaxTokens": "forgekit.agents",
    "MaxCost": "forgekit.agents",
    "Timeout": "forgekit.agents",
    "TextMention": "forgekit.agents",
    "FunctionCallResult": "forgekit.agents",
    "StallDetected": "forgekit.agents",
    "FinalAnswer": "forgekit.agents",
    # quality
    "BestOfN": "forgekit.quality",
    "Pairwise": "forgekit.quality",
    "ReviewerRetry": "forgekit.quality",
    "Guardrail": "forgekit.quality",
    "Debate": "forgekit.quality",
    # evals
    # fk.evaluate = forgekit.evals.evaluate, then tracked (report + MLflow)
    "evaluate": "forgekit.tracked",
    "aevaluate": "forgekit.tracked",
    "Task": "forgekit.evals",
    "scorer": "forgekit.evals",
    "plan": "forgekit.evals",
    "load_suite": "forgekit.evals",
    "EvalResults": "forgekit.evals",
    "PromptSolver": "forgekit.evals",
    # tracking
    "log_trajectory": "forgekit.tracking",
    "log_results": "forgekit.tracking",
    # notebook
    "TrajectoryInspector": "forgekit.notebook",
    "RunDashboard": "forgekit.notebook",
}


# modules whose import registers forgekit's component types (solvers, scorers,
# termination conditions, history processors, policies, ...); forgekit.core.component
# imports them the first time a config names a type it has not seen
COMPONENT_MODULES: tuple[str, ...] = (
    "forgekit.core.prompt_solver",
    "forgekit.rag.solver",
    "forgekit.agents",
    "forgekit.agents.mcp",
    "forgekit.agents.memory",
    "forgekit.agents.graph",
    "forgekit.agents.workflow",
    "forgekit.agents.checks",
    "forgekit.agents.handoff",
    "forgekit.agents.planning",
    "forgekit.quality",
    "forgekit.evals.text_scorers",
    "forgekit.evals.judge",
    "forgekit.evals.code_scorer",
)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'forgekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = ["__version__", *_EXPORTS]
