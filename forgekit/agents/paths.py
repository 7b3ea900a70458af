"""Path policy: which files a tool may touch.

Paths are resolved first (symlinks followed, `..` collapsed) and only then checked, so
`workspace/link-to-etc/passwd` and `workspace/../../etc/passwd` are seen for what they are.
Rules: a path outside every allowed root is denied; a path matching a deny glob is denied;
otherwise it is allowed when it matches an allow glob.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from forgekit.core.errors import PolicyDenied

# never touched by an agent unless a rule allows it explicitly
DEFAULT_DENY = [".git/**", ".git", "**/.env", ".env", "**/*.pem", "**/id_rsa*", "**/.ssh/**"]


class PathRules(BaseModel):
    """Globs relative to the workspace (or absolute), evaluated after resolving the path."""

    model_config = ConfigDict(extra="forbid")

    allow: list[str] = Field(default_factory=lambda: ["**"])
    deny: list[str] = Field(default_factory=lambda: list(DEFAULT_DENY))
    # extra roots outside the workspace that may be read (absolute paths)
    extra_roots: list[str] = Field(default_factory=list)


def _match(rel: str, pattern: str) -> bool:
    if fnmatch.fnmatchcase(rel, pattern):
        return True
    # `**/x` also matches `x` at the top; `dir/**` also matches `dir`
    if pattern.startswith("**/") and fnmatch.fnmatchcase(rel, pattern[3:]):
        return True
    return pattern.endswith("/**") and rel == pattern[:-3]


@dataclass
class PathPolicy:
    """Confines paths to a workspace (plus extra roots) and applies allow/deny globs."""

    workspace: Path
    rules: PathRules = field(default_factory=PathRules)

    def __post_init__(self) -> None:
        self.workspace = Path(os.path.realpath(self.workspace))

    def resolve(self, path: str | Path) -> Path:
        """The real absolute path (relative paths are taken from the workspace)."""
        p = Path(os.path.expanduser(str(path)))
        if not p.is_absolute():
            p = self.workspace / p
        return Path(os.path.realpath(p))

    def check(self, path: str | Path) -> tuple[bool, str]:
        """(allowed, reason) for a path."""
        real = self.resolve(path)
        roots = [self.workspace, *(Path(os.path.realpath(r)) for r in self.rules.extra_roots)]
        root = next((r for r in roots if real == r or r in real.parents), None)
        if root is None:
            return False, f"{path} resolves to {real}, outside the workspace {self.workspace}"
        rel = real.relative_to(root).as_posix() if real != root else "."
        for pat in self.rules.deny:
            target = str(real) if os.path.isabs(pat) else rel
            if _match(target, pat):
                return False, f"{path} matches deny rule {pat!r}"
        for pat in self.rules.allow:
            target = str(real) if os.path.isabs(pat) else rel
            if _match(target, pat) or (pat == "**" and rel == "."):
                return True, f"{path} is inside the workspace and matches {pat!r}"
        return False, f"{path} matches no allow rule"

    def require(self, path: str | Path) -> Path:
        """The resolved path, or PolicyDenied."""
        ok, reason = self.check(path)
        if not ok:
            raise PolicyDenied(f"path denied: {reason}", reason=reason)
        return self.resolve(path)
