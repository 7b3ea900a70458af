"""Reading a shell command line the way bash would, far enough to judge it: substitutions
pulled out, ANSI-C quoting decoded, base64 payloads found, here-documents and line
continuations handled, tokens split into simple commands. No judging here (see
forgekit.agents.safety)."""

from __future__ import annotations

import base64
import binascii
import re
import shlex

OPS = {";", "&&", "||", "|", "&", "|&", ";;"}
_B64 = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)(-?)\s*(['\"]?)([A-Za-z_][\w.-]*)\2")


def join_continuations(cmd: str) -> str:
    """Bash removes a backslash-newline before anything else: `r\\<newline>m` is `rm`."""
    return cmd.replace("\\\n", "")


def heredocs(cmd: str) -> tuple[str, list[str]]:
    """Here-document bodies taken out of the text; each `<<WORD` becomes `<<< __heredoc_N__`
    so the command it feeds can read it as its input."""
    bodies: list[str] = []
    lines = cmd.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        pending = list(_HEREDOC.finditer(line))
        if not pending:
            out.append(line)
            i += 1
            continue
        new = line
        i += 1
        for m in pending:
            strip, word = m.group(1) == "-", m.group(3)
            body: list[str] = []
            while i < len(lines) and (lines[i].lstrip("\t") if strip else lines[i]) != word:
                body.append(lines[i])
                i += 1
            i += 1  # the delimiter line
            new = new.replace(m.group(0), f"<<< __heredoc_{len(bodies)}__", 1)
            bodies.append("\n".join(body))
        out.append(new)
    return "\n".join(out), bodies


def substitutions(cmd: str) -> tuple[str, list[str]]:
    """Pull `$(...)`, `<(...)` and backtick bodies out (not inside single quotes)."""
    out, subs, i, quote = [], [], 0, ""
    while i < len(cmd):
        c = cmd[i]
        if quote != '"' and c == "'" and not (i and cmd[i - 1] == "\\"):
            quote = "" if quote == "'" else "'"
        elif quote != "'" and c == '"' and not (i and cmd[i - 1] == "\\"):
            quote = "" if quote == '"' else '"'
        if quote != "'" and c in "$<>" and cmd[i + 1 : i + 2] == "(" and cmd[i + 2 : i + 3] != "(":
            depth, j = 1, i + 2
            while j < len(cmd) and depth:
                depth += {"(": 1, ")": -1}.get(cmd[j], 0)
                j += 1
            subs.append(cmd[i + 2 : j - 1])
            out.append(" __subst__ ")
            i = j
            continue
        if quote != "'" and c == "`":
            j = cmd.find("`", i + 1)
            j = len(cmd) if j < 0 else j
            subs.append(cmd[i + 1 : j])
            out.append(" __subst__ ")
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out), subs


def ansi_c(cmd: str) -> str:
    def dec(m: re.Match[str]) -> str:
        try:
            return m.group(1).encode().decode("unicode_escape")
        except UnicodeDecodeError:
            return m.group(0)

    return re.sub(r"\$'((?:[^'\\]|\\.)*)'", dec, cmd)


def b64_payloads(text: str) -> list[str]:
    found = []
    for m in _B64.finditer(text):
        s = m.group(0)
        try:
            raw = base64.b64decode(s + "=" * (-len(s) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if raw.isprintable() and " " in raw or "/" in raw:
            found.append(raw)
    return found


def tokens(cmd: str) -> list[str]:
    lex = shlex.shlex(cmd.replace("\n", " ; "), posix=True, punctuation_chars=";&|<>()")
    lex.whitespace_split = True
    lex.commenters = ""
    try:
        return list(lex)
    except ValueError:  # unbalanced quotes: fall back to a plain split
        return cmd.replace("\n", " ; ").split()


def segments(tokens: list[str]) -> list[tuple[list[str], str]]:
    """Simple commands with the operator that precedes each (`|` means piped input)."""
    segs: list[tuple[list[str], str]] = []
    cur: list[str] = []
    prev = ""
    for t in tokens:
        if t in OPS or t in {"(", ")", "{", "}"}:
            if cur:
                segs.append((cur, prev))
            cur, prev = [], t if t in OPS else prev
        else:
            cur.append(t)
    if cur:
        segs.append((cur, prev))
    return segs


def flags(args: list[str]) -> set[str]:
    out: set[str] = set()
    for a in args:
        if a.startswith("--"):
            out.add(a)
        elif a.startswith("-") and len(a) > 1:
            out.update("-" + ch for ch in a[1:])
    return out
