"""`Direct`: one model call with a prompt template; the quality layer's default inner
solver. It is `forgekit.core.prompt_solver.PromptSolver` under the name the quality layer
has always used: ``Direct("{input}", max_tokens=16)`` takes call parameters as keyword
arguments, and its config is the prompt solver's (``type: prompt``).
"""

from __future__ import annotations

from forgekit.core.prompt_solver import PromptSolver

Direct = PromptSolver

__all__ = ["Direct"]
