"""The one small error hierarchy of forgekit; every error says what to do next."""

from __future__ import annotations

from pathlib import Path


class ForgekitError(Exception):
    """Base class for every error forgekit raises on purpose."""


class ConfigError(ForgekitError):
    """A configuration file or value is wrong; carries the file, line and key."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.key = key
        where = ""
        if self.file:
            where = self.file + (f":{line}" if line else "")
        if key:
            where = f"{where} [{key}]" if where else f"[{key}]"
        super().__init__(f"{where}: {message}" if where else message)
        self.detail = message


class BudgetExceeded(ForgekitError):
    """A call was refused (or a run stopped) because its budget would be exceeded."""

    def __init__(self, message: str, *, spent_usd: float = 0.0, spent_tokens: int = 0) -> None:
        super().__init__(message)
        self.spent_usd = spent_usd
        self.spent_tokens = spent_tokens


class ModelError(ForgekitError):
    """A model call failed for good (after retries and fallbacks)."""

    def __init__(self, message: str, *, alias: str | None = None, status: int | None = None,
                 retries: int = 0) -> None:
        super().__init__(message)
        self.alias = alias
        self.status = status
        self.retries = retries


class ModelUnavailable(ModelError):
    """The endpoint cannot be reached (down, circuit open, local server failed to start)."""


class UnknownAlias(ConfigError):
    """A model alias is not configured."""


class ReplayDivergence(ForgekitError):
    """A replayed run asked for something the recording does not hold."""

    def __init__(self, message: str, *, step: int | None = None, expected: object = None,
                 actual: object = None) -> None:
        super().__init__(message)
        self.step = step
        self.expected = expected
        self.actual = actual


class PolicyDenied(ForgekitError):
    """A tool call was denied by the tool policy."""

    def __init__(self, message: str, *, tool: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.tool = tool
        self.reason = reason


class DataError(ForgekitError):
    """Input data (a task set, a corpus, a qrels file) is malformed; lists every bad row."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        text = message
        if self.problems:
            text += "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text)
