"""forgekit.agents: tools and YAML tool bundles, tool policy and safety, the agent loop,
termination conditions, history processors, structured output."""

from forgekit.agents.agent import Agent
from forgekit.agents.feedback import (
    Approval,
    ApprovalRequest,
    CallbackFeedback,
    CLIFeedback,
    FeedbackProvider,
    HeadlessFeedback,
)
from forgekit.agents.history import (
    DropStaleFileViews,
    HeadAndTail,
    HistoryProcessor,
    LastNObservations,
    RemoveRegex,
    TokenBudget,
    apply_history,
    parse_history,
)
from forgekit.agents.paths import PathPolicy, PathRules
from forgekit.agents.policy import PRESETS, Decision, PolicyConfig, Rule, ToolPolicy, resolve_policy
from forgekit.agents.prompts import Prompt
from forgekit.agents.recommend import recommend_tools
from forgekit.agents.roles import Role, available_roles, load_role, shipped_roles
from forgekit.agents.safety import CommandRisk, assess_command
from forgekit.agents.structured import StructuredOutputError, complete_structured, parse_structured
from forgekit.agents.termination import (
    AgentState,
    AllOf,
    AnyOf,
    FinalAnswer,
    FunctionCallResult,
    MaxCost,
    MaxSteps,
    MaxTokens,
    Predicate,
    StallDetected,
    Termination,
    TextMention,
    Timeout,
    condition_from_config,
)
from forgekit.agents.text_tools import parse_text_tool_calls
from forgekit.agents.tool_bundle import Bundle, BundleConfig, load_bundle, shipped_bundles
from forgekit.agents.tools import Tool, ToolEnv, ToolError, tool

__all__ = [
    "PRESETS",
    "Agent",
    "AgentState",
    "Approval",
    "ApprovalRequest",
    "AllOf",
    "AnyOf",
    "Bundle",
    "BundleConfig",
    "CLIFeedback",
    "CallbackFeedback",
    "CommandRisk",
    "Decision",
    "DropStaleFileViews",
    "FeedbackProvider",
    "FinalAnswer",
    "FunctionCallResult",
    "HeadAndTail",
    "HeadlessFeedback",
    "HistoryProcessor",
    "LastNObservations",
    "MaxCost",
    "MaxSteps",
    "MaxTokens",
    "PathPolicy",
    "PathRules",
    "PolicyConfig",
    "Predicate",
    "Prompt",
    "Role",
    "RemoveRegex",
    "Rule",
    "StallDetected",
    "StructuredOutputError",
    "Termination",
    "TextMention",
    "Timeout",
    "TokenBudget",
    "Tool",
    "ToolEnv",
    "ToolError",
    "ToolPolicy",
    "apply_history",
    "assess_command",
    "available_roles",
    "complete_structured",
    "condition_from_config",
    "load_bundle",
    "load_role",
    "parse_history",
    "parse_structured",
    "parse_text_tool_calls",
    "recommend_tools",
    "resolve_policy",
    "shipped_bundles",
    "shipped_roles",
    "tool",
]
