"""The `files` bundle: read, write, list, search and patch files inside the workspace.

Every path goes through the path policy (resolved, then checked), whatever the tool
policy preset: these tools cannot leave the workspace.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path

from forgekit.agents.paths import PathPolicy
from forgekit.agents.tools import ToolEnv, ToolError
from forgekit.core.errors import PolicyDenied


def _paths(env: ToolEnv) -> PathPolicy:
    policy = getattr(env.policy, "paths", None)
    if isinstance(policy, PathPolicy) and policy.workspace == Path(os.path.realpath(env.workspace)):
        return policy
    return PathPolicy(env.workspace)


def _require(env: ToolEnv, path: str) -> Path:
    try:
        return _paths(env).require(path)
    except PolicyDenied as e:
        raise ToolError(str(e)) from None


def _rel(env: ToolEnv, p: Path) -> str:
    return p.relative_to(_paths(env).workspace).as_posix()


def read_file(path: str, start_line: int = 1, end_line: int | None = None, *, env: ToolEnv) -> str:
    """Read a text file (optionally a line range, 1-based inclusive)."""
    p = _require(env, path)
    if not p.is_file():
        raise ToolError(f"no such file: {path}")
    max_bytes = int(env.options.get("max_bytes", 200_000))
    text = p.read_bytes()[:max_bytes].decode("utf-8", "replace")
    if start_line != 1 or end_line is not None:
        lines = text.splitlines(keepends=True)
        text = "".join(lines[max(start_line - 1, 0) : end_line])
    return text


def write_file(path: str, content: str, *, env: ToolEnv) -> str:
    """Create or overwrite a text file (parent folders are created)."""
    p = _require(env, path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(content, encoding="utf-8")
    return f"wrote {len(content)} characters to {_rel(env, p)}"


def list_files(path: str = ".", pattern: str = "*", *, env: ToolEnv) -> str:
    """List files under a folder (recursive), filtered by a glob on the file name."""
    root = _require(env, path)
    if not root.is_dir():
        raise ToolError(f"not a folder: {path}")
    limit = int(env.options.get("max_entries", 500))
    policy = _paths(env)
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if policy.check(Path(dirpath) / d)[0])
        for f in sorted(filenames):
            full = Path(dirpath) / f
            if fnmatch.fnmatch(f, pattern) and policy.check(full)[0]:
                out.append(_rel(env, Path(os.path.realpath(full))))
                if len(out) >= limit:
                    return "\n".join(out + [f"... (stopped at {limit} entries)"])
    return "\n".join(out) if out else "(no files)"


def search_files(query: str, path: str = ".", glob: str = "*", *, env: ToolEnv) -> str:
    """Search file contents for a regular expression; lines as `file:line: text`."""
    try:
        rx = re.compile(query)
    except re.error as e:
        raise ToolError(f"invalid regular expression: {e}") from None
    listing = list_files(path, glob, env=env)
    hits: list[str] = []
    limit = int(env.options.get("max_hits", 200))
    for rel in listing.splitlines():
        if rel.startswith("... ") or rel == "(no files)":
            continue
        p = _paths(env).workspace / rel
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        for n, line in enumerate(lines, 1):
            if rx.search(line):
                hits.append(f"{rel}:{n}: {line.strip()[:200]}")
                if len(hits) >= limit:
                    return "\n".join(hits + [f"... (stopped at {limit} hits)"])
    return "\n".join(hits) if hits else "(no matches)"


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _strip_prefix(name: str) -> str:
    name = name.split("\t")[0].strip()
    return name[2:] if name[:2] in ("a/", "b/") else name


def _parse_diff(diff: str) -> list[tuple[str | None, str | None, list[list[str]]]]:
    files: list[tuple[str | None, str | None, list[list[str]]]] = []
    lines = diff.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old = _strip_prefix(lines[i][4:])
            new = _strip_prefix(lines[i + 1][4:])
            hunks: list[list[str]] = []
            i += 2
            while i < len(lines) and not lines[i].startswith("--- "):
                if _HUNK.match(lines[i]):
                    hunks.append([])
                elif hunks and lines[i][:1] in (" ", "+", "-", ""):
                    hunks[-1].append(lines[i] if lines[i] else " ")
                i += 1
            files.append(
                (None if old == "/dev/null" else old, None if new == "/dev/null" else new, hunks)
            )
        else:
            i += 1
    if not files:
        raise ToolError("no file headers (---/+++) found: send a unified diff")
    return files


def _apply_hunks(text: str, hunks: list[list[str]], name: str) -> str:
    lines = text.splitlines()
    pos = 0
    for n, hunk in enumerate(hunks, 1):
        before = [h[1:] for h in hunk if h[0] in (" ", "-")]
        after = [h[1:] for h in hunk if h[0] in (" ", "+")]
        at = next(
            (
                k
                for k in range(pos, len(lines) - len(before) + 1)
                if lines[k : k + len(before)] == before
            ),
            None,
        )
        if at is None:  # tolerate trailing-whitespace differences
            strip = [b.rstrip() for b in before]
            at = next(
                (
                    k
                    for k in range(0, len(lines) - len(before) + 1)
                    if [x.rstrip() for x in lines[k : k + len(before)]] == strip
                ),
                None,
            )
        if at is None:
            raise ToolError(
                f"hunk {n} of {name} does not match the file; read it again and "
                "resend the diff with exact context lines"
            )
        lines[at : at + len(before)] = after
        pos = at + len(after)
    return "\n".join(lines) + ("\n" if lines else "")


def apply_diff(diff: str, *, env: ToolEnv) -> str:
    """Apply a unified diff (one or more files) inside the workspace; all or nothing."""
    planned: list[tuple[Path, str | None]] = []
    for old, new, hunks in _parse_diff(diff):
        target = _require(env, new or old or "")
        if old is None:
            planned.append((target, _apply_hunks("", hunks, new or "")))
        elif new is None:
            planned.append((target, None))
        else:
            src = _require(env, old)
            if not src.is_file():
                raise ToolError(f"no such file: {old}")
            planned.append((target, _apply_hunks(src.read_text(encoding="utf-8"), hunks, old)))
    for target, content in planned:
        if content is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
    return "patched " + ", ".join(_rel(env, t) for t, _ in planned)
