"""forgekit.core: data types, config loading, errors. Imports nothing heavy."""

from forgekit.core.bus import EventBus
from forgekit.core.config import (
    AliasConfig,
    ProjectConfig,
    load_config,
)
from forgekit.core.context import (
    EventSink,
    MemorySink,
    ModelClient,
    RunContext,
    Solver,
    SpendLimit,
    new_run_id,
)
from forgekit.core.errors import (
    BudgetExceeded,
    ConfigError,
    DataError,
    ForgekitError,
    ModelError,
    ModelUnavailable,
    PolicyDenied,
    ReplayDivergence,
    UnknownAlias,
)
from forgekit.core.events import (
    Event,
    ModelCall,
    NoteEvent,
    RunEnd,
    RunStart,
    ScoreEvent,
    StepEvent,
    ToolCallEvent,
    parse_event,
)
from forgekit.core.hashing import canonical_json, stable_hash
from forgekit.core.messages import Message, ModelResponse, ToolCall, Usage, as_messages
from forgekit.core.redact import redact, redact_text
from forgekit.core.samples import Answer, Sample, Score
from forgekit.core.sandbox import Sandbox, SandboxConfig, SandboxUnavailable, sandbox_status
from forgekit.core.sync import run_sync
from forgekit.core.totals import RunTotals

__all__ = [
    "AliasConfig", "Answer", "BudgetExceeded", "ConfigError", "DataError", "Event", "EventBus",
    "EventSink", "ForgekitError", "MemorySink", "Message", "ModelCall", "ModelClient",
    "ModelError", "ModelResponse", "ModelUnavailable", "NoteEvent", "PolicyDenied",
    "ProjectConfig", "ReplayDivergence", "RunContext", "RunEnd", "RunStart", "RunTotals", "Sample", "Sandbox",
    "SandboxConfig", "SandboxUnavailable", "Score",
    "ScoreEvent", "Solver", "SpendLimit", "StepEvent", "ToolCall", "ToolCallEvent", "UnknownAlias", "Usage",
    "as_messages", "canonical_json", "load_config", "new_run_id", "parse_event", "redact",
    "redact_text", "run_sync", "sandbox_status", "stable_hash",
]
