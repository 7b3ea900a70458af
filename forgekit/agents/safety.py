"""Command safety evaluator: how risky is a shell command, and why.

`assess_command("rm -rf /")` returns a `CommandRisk(level="high", reason=...)`. The
evaluator looks through the usual disguises before judging: quoting and backslashes
(`r''m`, `r\\m`), command substitution (`$(...)`, backticks, even inside double quotes),
`eval`, `sh -c` / `bash -c` strings, base64 payloads, ANSI-C escapes (`$'\\x72m'`),
`${IFS}`, line continuations, variables set earlier on the line (`X=rm; $X -rf /`,
`set -- -rf /; rm "$@"`), wrappers and their option values (`timeout -s KILL 5 rm`,
`env -S '...'`), here-strings and here-documents fed to a shell or interpreter, scripts
written earlier on the line or found in the workspace (`sh x.sh`), the code strings of
interpreters (python, perl, ruby, node, php, lua, awk; see `code_risk`), and `cd` out of the
workspace. A command name it cannot resolve (built by globbing, quoting or substitution)
is rated as an unknown risk. Text that is only data (`echo 'rm -rf /'`, `grep -r "rm -rf" .`) is not
executed and is not flagged.

Levels: ``high`` destroys data, escapes the workspace for writing, escalates privileges,
runs downloaded code or hides what it runs; ``medium`` has side effects beyond the
workspace (network, packages, history rewriting) or is interactive (would hang a headless
run); ``low`` everything else.
"""

from __future__ import annotations

import fnmatch
import functools
import posixpath
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from forgekit.agents import shell_words as sw
from forgekit.agents.code_risk import analyse

Risk = Literal["low", "medium", "high"]
_ORDER = {"low": 0, "medium": 1, "high": 2}
_WS = "/__workspace__"
_REDIRECTS = {">", ">>", ">|", "&>", "&>>", "<>"}
_SENSITIVE = re.compile(
    r"^(/etc|/boot|/bin|/sbin|/usr|/lib|/lib64|/var|/dev/(sd|nvme|hd|"
    r"mem|kmem|port|disk|mapper)\w*|/proc|/sys|/root|~|/home)(/|$)|"
    r"(^|/)\.(ssh|bashrc|profile|zshrc|bash_profile|gnupg|aws|kube)(/|$)"
)
_SENSITIVE_READ = re.compile(
    r"/etc/shadow|/etc/sudoers|\.ssh/|id_rsa|\.aws/|\.gnupg|\.netrc|\.kube/config|"
    r"(^|/)\.env(\.\w+)?$|credentials"
)
# `git -c` keys that cannot make git run a command
_GIT_SAFE_KEYS = re.compile(r"(color|user|log|advice|init|column|status|i18n|format)\.")
_PROC_SECRETS = re.compile(r"/proc/[^/\s'\"]+/(environ|mem|root/|map_files)")
_GIT_INTERNALS = re.compile(r"(^|/)\.git/(hooks(/|$)|config$|info/attributes)")
_FORK_BOMB = re.compile(r"(\S+)\s*\(\s*\)\s*\{[^}]*\1\s*\|\s*\1\s*&[^}]*\}")
_ASSIGN = re.compile(r"[A-Za-z_]\w*=.*")
_GLOB = re.compile(r"[*?\[]|\{[^}]*,[^}]*\}")


@functools.cache
def tables() -> dict[str, Any]:
    """The command tables (forgekit/agents/safety_tables.yaml), loaded once."""
    import yaml

    text = (resources.files("forgekit.agents") / "safety_tables.yaml").read_text("utf-8")
    t = yaml.safe_load(text)
    for key in ("shells", "interactive", "system", "disk", "network", "packages", "keywords",
                "harmless_devices"):  # fmt: skip
        t[key] = set(t[key])
    t["known"] = sorted(
        {*t["wrappers"], *t["shells"], *t["interpreters"], *t["system"], *t["disk"],
         *t["network"], *t["packages"], *t["writers"], "rm", "rmdir", "unlink", "dd", "find",
         "git", "eval", "kill", "killall", "pkill", "mkfs", "docker", "podman", "source"}
    )  # fmt: skip
    return t


class CommandRisk(BaseModel):
    """The verdict on one command: a level, the main reason, and every finding."""

    model_config = ConfigDict(extra="forbid")

    command: str
    level: Risk = "low"
    reason: str = "no risky operation recognised"
    findings: list[str] = Field(default_factory=list)

    @property
    def high(self) -> bool:
        return self.level == "high"


class _Judge:
    def __init__(self, workspace: str | None) -> None:
        self.workspace = workspace.rstrip("/") if workspace else None
        self.level: Risk = "low"
        self.findings: list[tuple[Risk, str]] = []
        self.files: dict[str, str] = {}  # scripts written earlier on the line
        self.heredocs: list[str] = []

    def flag(self, level: Risk, reason: str) -> None:
        self.findings.append((level, reason))
        if _ORDER[level] > _ORDER[self.level]:
            self.level = level

    # -- paths -------------------------------------------------------------------------
    def where(self, path: str, cwd: str) -> str:
        """'inside', 'harmless' (e.g. /dev/null), 'sensitive' or 'outside'."""
        if path in tables()["harmless_devices"]:
            return "harmless"
        if path.startswith("~") or path.startswith("$HOME") or path.startswith("${HOME}"):
            return "sensitive"
        if self.workspace and (path == self.workspace or path.startswith(self.workspace + "/")):
            path = _WS + path[len(self.workspace) :]
        full = posixpath.normpath(posixpath.join(cwd, path))
        if full == _WS or full.startswith(_WS + "/"):
            return "inside"
        if _SENSITIVE.search(full) or full == "/":
            return "sensitive"
        return "outside"

    def script(self, path: str, cwd: str) -> str | None:
        """The text of a script written earlier on the line, or found in the workspace."""
        if path in self.files:
            return self.files[path]
        if self.workspace and self.where(path, cwd) == "inside":
            full = posixpath.normpath(posixpath.join(cwd, path)).replace(_WS, self.workspace, 1)
            try:
                return Path(full).read_text("utf-8", "replace")[:65536]
            except OSError:
                return None
        return None


def assess_command(command: str, workspace: str | None = None, *, _depth: int = 0) -> CommandRisk:
    """Judge one shell command line. `workspace` (an absolute path) lets absolute paths
    inside it count as inside."""
    judge = _Judge(workspace)
    _assess(command, judge, _depth)
    if not judge.findings:
        return CommandRisk(command=command)
    ranked = sorted(judge.findings, key=lambda f: -_ORDER[f[0]])
    return CommandRisk(
        command=command,
        level=judge.level,
        reason=ranked[0][1],
        findings=[f"{lvl}: {msg}" for lvl, msg in ranked],
    )


def _assess(command: str, judge: _Judge, depth: int) -> None:
    if depth > 4:
        judge.flag("high", "command nests substitutions too deeply to inspect")
        return
    text = sw.join_continuations(command)
    if _FORK_BOMB.search(text):
        judge.flag("high", "fork bomb")
    if m := _PROC_SECRETS.search(text):
        judge.flag("high", f"reads another process's {m.group(1).rstrip('/')} (secrets)")
    if re.search(r"\$\{?IFS\}?", text):
        judge.flag("high", "uses $IFS to hide spaces (obfuscation)")
        text = re.sub(r"\$\{?IFS\}?", " ", text)
    if re.search(r"\$'[^']*\\(x[0-9a-fA-F]{2}|[0-7]{3}|u[0-9a-fA-F]{4})", text):
        judge.flag("medium", "ANSI-C escapes hide characters")
        text = sw.ansi_c(text)
    if re.search(r"/dev/(tcp|udp)/", text):
        judge.flag("high", "opens a raw network connection (/dev/tcp), a reverse-shell pattern")
    text, judge.heredocs = sw.heredocs(text)
    text, subs = sw.substitutions(text)
    for sub in subs:
        inner = assess_command(sub, judge.workspace, _depth=depth + 1)
        if inner.level != "low":
            judge.flag(inner.level, f"command substitution runs: {inner.reason}")
    variables: dict[str, str] = {}
    cwd = _WS
    prev_cmd = ""
    for args, op in sw.segments(sw.tokens(text)):
        args = _expand_all(args, variables)
        while args and _ASSIGN.fullmatch(args[0]):
            name, _, value = args.pop(0).partition("=")
            variables[name] = value
        while args and args[0] in tables()["keywords"]:
            args.pop(0)
        if args and args[0] == "function" or len(args) > 1 and args[1] == "()":
            continue  # a function definition: its body is a later segment
        if not args:
            continue
        if args[0] in {"export", "declare", "local", "readonly", "typeset"}:
            for a in args[1:]:
                if _ASSIGN.fullmatch(a):
                    name, _, value = a.partition("=")
                    variables[name] = value
            continue
        if args[0] == "set" and "--" in args:
            variables["@"] = "\x00".join(args[args.index("--") + 1 :])
            continue
        cwd = _simple(args, op, prev_cmd, judge, cwd, depth)
        prev_cmd = posixpath.basename(args[0])


def _expand_all(args: list[str], variables: dict[str, str]) -> list[str]:
    out: list[str] = []
    for a in args:
        if a in {"$@", "$*", "${@}", "${*}"} and "@" in variables:
            out += variables["@"].split("\x00")
            continue
        if "@" in variables:
            for k, v in enumerate(variables["@"].split("\x00"), 1):
                a = a.replace(f"${{{k}}}", v).replace(f"${k}", v) if k < 10 else a
        for name, value in variables.items():
            if name != "@":
                a = a.replace("${" + name + "}", value).replace("$" + name, value)
        out.append(a)
    return out


def _unwrap(args: list[str], judge: _Judge, depth: int) -> list[str]:
    """Drop sudo / env / timeout -s KILL 5 / xargs -a f ... with their option values."""
    wrappers = tables()["wrappers"]
    while args and posixpath.basename(args[0]) in wrappers:
        w = posixpath.basename(args.pop(0))
        spec = wrappers[w] or {}
        if spec.get("escalates"):
            judge.flag("high", f"{w} escalates privileges")
        values = set(spec.get("values", []))
        if w == "command" and args and args[0] in {"-v", "-V"}:
            return []  # only prints where a command is
        while args and (args[0].startswith("-") or (w == "env" and _ASSIGN.fullmatch(args[0]))):
            opt = args.pop(0)
            if opt == "--":
                break
            key, eq, val = opt.partition("=")
            takes = key in values or (len(key) == 2 and key in values)
            if w == "env" and key in {"-S", "--split-string"}:
                code = val if eq else (args.pop(0) if args else "")
                _sub(code, judge, depth, "env -S runs")
                continue
            if w in {"su", "runuser", "flock"} and key in {"-c", "--command"}:
                code = val if eq else (args.pop(0) if args else "")
                _sub(code, judge, depth, f"{w} -c runs")
                continue
            if takes and not eq and args:
                args.pop(0)
        for _ in range(spec.get("skip", 0)):
            if args:
                args.pop(0)
    return args


def _simple(args: list[str], op: str, prev_cmd: str, judge: _Judge, cwd: str, depth: int) -> str:
    t = tables()
    clean: list[str] = []
    stdin: str | None = None
    writes: list[str] = []
    i = 0
    while i < len(args):  # redirections anywhere in the command
        a = args[i]
        if a in _REDIRECTS:
            target = args[i + 1] if i + 1 < len(args) else ""
            if target and not target.startswith("&") and not target.isdigit():
                _write_target(target, judge, cwd, "redirects output to")
                writes.append(target)
            i += 2
            continue
        if a == "<<<":
            word = args[i + 1] if i + 1 < len(args) else ""
            m = re.fullmatch(r"__heredoc_(\d+)__", word)
            stdin = judge.heredocs[int(m.group(1))] if m else word
            i += 2
            continue
        if a == "<":
            i += 2
            continue
        clean.append(a)
        i += 1
    args = _unwrap(clean, judge, depth)
    if not args:
        return cwd
    name = args[0]
    if writes and posixpath.basename(name) in {"echo", "printf", "cat"}:
        body = stdin if stdin is not None else " ".join(args[1:])
        for w in writes:
            judge.files[w] = body
    if "$" in name or "__subst__" in name or "`" in name:
        judge.flag(
            "high", f"the command name is built at run time ({name.strip()}): cannot tell what runs"
        )
        return cwd
    if _GLOB.search(name) and name not in {"[", "[["}:
        return _globbed(args, op, prev_cmd, judge, cwd, depth)
    base = posixpath.basename(name)
    base = (
        re.sub(r"(?<=[a-z])[\d.]+$", "", base)
        if base.startswith(("python", "pypy", "perl", "ruby", "php", "lua"))
        else base
    )
    rest = args[1:]
    flags = sw.flags(rest)
    positional = [a for a in rest if not a.startswith("-")]
    interp = base in t["shells"] or base in t["interpreters"]
    if op == "|" and interp and not positional and base not in {"awk", "gawk", "mawk", "nawk"}:
        judge.flag("high", f"pipes {prev_cmd or 'data'} into {base}: runs code it cannot see")
    for p in sw.b64_payloads(" ".join(rest)):
        inner = assess_command(p, judge.workspace, _depth=depth + 1)
        if inner.level != "low":
            judge.flag("high", f"base64 payload hides: {inner.reason}")
    for a in rest:
        if _GIT_INTERNALS.search(a) and base not in {"cat", "ls", "grep", "head", "tail", "git"}:
            judge.flag("high", f"{base} touches git's hooks or config ({a}): code git would run")
    if base in {"cd", "pushd"}:
        return _cd(positional, rest, judge, cwd)
    if base == "eval":
        body = " ".join(rest)
        if "$" in body:
            judge.flag("high", "eval of an expanded value (cannot tell what runs)")
        _sub(body, judge, depth, "eval runs")
    elif interp:
        _interpreter(base, rest, judge, cwd, depth, stdin)
    elif base in {"rm", "rmdir", "unlink"}:
        _rm(base, positional, flags, judge, cwd)
    elif base == "find":
        _find(rest, judge, cwd, depth)
    elif base in {"source", "."}:
        if any(a == "__subst__" for a in rest):
            judge.flag("high", f"{base} runs code produced by another command")
        for s in positional[:1]:
            if judge.where(s, cwd) in ("sensitive", "outside"):
                judge.flag("medium", f"{base} runs a script from outside the workspace ({s})")
            elif (text := judge.script(s, cwd)) is not None:
                _sub(text, judge, depth, f"{base} {s} runs")
    elif base == "alias":
        for a in rest:
            _sub(a.partition("=")[2], judge, depth, "the alias runs")
    elif base in {"docker", "podman"}:
        _docker(base, rest, positional, judge)
    elif base == "shred":
        judge.flag("medium", "shred destroys file contents beyond recovery")
    elif base in t["disk"] or base.startswith("mkfs"):
        judge.flag("high", f"{base} destroys a filesystem or disk contents")
    elif base == "dd":
        for a in rest:
            if a.startswith("of="):
                where = judge.where(a[3:], cwd)
                if where in ("sensitive", "outside"):
                    judge.flag("high", f"dd writes raw data to {a[3:]}")
    elif base == "git":
        _git(rest, judge, cwd)
    elif base in t["system"] or (base == "kill" and ("-1" in rest or "1" in positional)):
        judge.flag("high", f"{base} changes the system or kills processes")
    elif base == "kill":
        judge.flag("medium", "kill stops processes")
    elif base == "crontab" and not ({"-l"} & flags):
        judge.flag("medium", "crontab changes or erases scheduled jobs")
    elif base in {"killall", "pkill"}:
        judge.flag("high", f"{base} kills processes by name")
    elif base in t["network"] and not ({"--version", "--help", "-V"} & set(rest)):
        judge.flag("medium", f"{base} reaches the network")
        if ("-e" in flags or "-c" in flags) and base in {"nc", "ncat", "netcat"}:
            judge.flag("high", f"{base} -e serves a shell over the network")
    elif base in t["packages"] and any(
        p in positional for p in ("install", "uninstall", "remove", "add", "purge")
    ):
        judge.flag("medium", f"{base} changes installed packages")
    elif base in t["interactive"]:
        judge.flag("medium", f"{base} is interactive and would hang a headless run")
    elif base == "history" and "-c" in flags:
        judge.flag("medium", f"{base} erases user data")
    else:
        for a in positional:
            if judge.where(a, cwd) in ("sensitive", "outside") and _SENSITIVE_READ.search(a):
                judge.flag("high", f"reads secrets ({a})")
    if base in t["writers"]:
        _writer(base, rest, judge, cwd)
    else:  # any other program told where to write its output (`-o FILE`, `--output=FILE`)
        for k, a in enumerate(rest):
            key, eq, val = a.partition("=")
            if key in {"-o", "--output", "--out", "--outfile", "--output-file", "--log-file"}:
                target = val if eq else (rest[k + 1] if k + 1 < len(rest) else "")
                if target:
                    _write_target(target, judge, cwd, f"{base} writes its output to")
    return cwd


def _globbed(args: list[str], op: str, prev: str, judge: _Judge, cwd: str, depth: int) -> str:
    """A command name that is a glob (`/bin/r?`): judged as every known command it could be."""
    pattern = posixpath.basename(args[0])
    braces = re.fullmatch(r"(.*)\{([^}]*)\}(.*)", pattern)
    names = (
        [braces.group(1) + x + braces.group(3) for x in braces.group(2).split(",")]
        if braces
        else []
    )
    hits = [k for k in tables()["known"] if fnmatch.fnmatchcase(k, pattern) or k in names]
    judge.flag("medium", f"the command name is a pattern ({args[0]}): cannot tell what runs")
    for hit in hits:
        _simple([hit, *args[1:]], op, prev, judge, cwd, depth)
    return cwd


def _cd(positional: list[str], rest: list[str], judge: _Judge, cwd: str) -> str:
    target = positional[0] if positional else ("-" if "-" in rest else "~")
    if target.startswith("~"):
        new = "/root"
    elif "$" in target or "__subst__" in target or target == "-":
        new = "/unknown"  # cannot tell where it goes: count it as outside
    else:
        new = posixpath.normpath(posixpath.join(cwd, target))
    if judge.workspace and target.startswith(judge.workspace):
        new = _WS + target[len(judge.workspace) :]
    if not (new == _WS or new.startswith(_WS + "/")):
        judge.flag("medium", f"cd {target} leaves the workspace")
    return new


def _find(rest: list[str], judge: _Judge, cwd: str, depth: int) -> None:
    if "-delete" in rest or any(a in rest for a in ("-exec", "-execdir", "-ok", "-okdir")):
        roots = [a for a in rest[:3] if not a.startswith("-")] or ["."]
        if any(judge.where(r, cwd) != "inside" for r in roots):
            judge.flag(
                "high", "find deletes or runs a command on every match outside the workspace"
            )
        elif "-delete" in rest and not {"-name", "-iname", "-path", "-regex"} & set(rest):
            judge.flag("medium", "find deletes every file under the workspace")
        for flag in ("-exec", "-execdir", "-ok", "-okdir"):
            if flag in rest:
                k = rest.index(flag)
                cmd = " ".join(x for x in rest[k + 1 :] if x not in {"{}", "\\;", ";", "+"})
                _sub(cmd, judge, depth, f"find {flag} runs")


def _docker(base: str, rest: list[str], positional: list[str], judge: _Judge) -> None:
    joined = " ".join(rest)
    if "--privileged" in rest or re.search(r"-v\s+/(:|\s)|--volume[= ]/:", joined):
        judge.flag("high", f"{base} container with host root access")
    elif positional and positional[0] in {
        "run", "exec", "rm", "rmi", "system", "kill", "stop", "build", "push",
    }:  # fmt: skip
        judge.flag("medium", f"{base} {positional[0]} changes containers")


def _sub(body: str, judge: _Judge, depth: int, what: str) -> None:
    inner = assess_command(body, judge.workspace, _depth=depth + 1)
    if inner.level != "low":
        judge.flag(inner.level, f"{what}: {inner.reason}")


_CODE_FLAGS = {"-c", "-e", "-E", "--eval", "-lc", "-ec", "-r", "-p", "--print"}


def _interpreter(
    base: str, rest: list[str], judge: _Judge, cwd: str, depth: int, stdin: str | None
) -> None:
    t = tables()
    shell = base in t["shells"]
    lang = "shell" if shell else t["interpreters"][base]
    code, script = None, None
    operands = []
    k = 0
    while k < len(rest):
        a = rest[k]
        if lang == "python" and a == "-m" and k + 1 < len(rest):  # python -m pip install ...
            _sub(" ".join(rest[k + 1 :]), judge, depth, f"{base} -m runs")
            return
        if lang == "awk" and a in {"-f", "-v", "-F"} and k + 1 < len(rest):
            if a == "-f":
                script = rest[k + 1]
            k += 2
            continue
        if a in _CODE_FLAGS and k + 1 < len(rest) and not (lang == "php" and a == "-p"):
            code = rest[k + 1]
            break
        if lang == "perl" and re.fullmatch(r"-[a-zA-Z]*[eE]", a) and k + 1 < len(rest):
            code = rest[k + 1]
            break
        if shell and re.fullmatch(r"-[a-z]*c[a-z]*", a) and k + 1 < len(rest):
            code = rest[k + 1]
            break
        if not a.startswith("-"):
            operands.append(a)
            if lang == "awk" and code is None and len(operands) == 1:
                code = a  # awk's program is its first operand
                break
            if script is None and a != "-":
                script = a
        k += 1
    if any(a == "__subst__" for a in rest):
        judge.flag("high", f"{base} runs code produced by another command")
        return
    if code is None and script is not None:
        if judge.where(script, cwd) in ("sensitive", "outside"):
            judge.flag("medium", f"{base} runs a script from outside the workspace ({script})")
            return
        code = judge.script(script, cwd)
        if code is None:
            if shell:
                judge.flag("medium", f"{base} runs a script it cannot see ({script})")
            return
    if code is None and stdin is not None:
        code = stdin
    if code is None:
        if not rest or rest == ["-i"] or "-i" in rest:
            judge.flag("medium", f"{base} without a script is interactive")
        return
    if shell:
        _sub(code, judge, depth, f"{base} runs")
        return
    _code(base, lang, code, judge, cwd, depth)


def _code(base: str, lang: str, code: str, judge: _Judge, cwd: str, depth: int) -> None:
    facts = analyse(lang, code)
    for cmd in facts.commands:
        _sub(cmd, judge, depth, f"{base} code runs")
    for p in facts.destroys:
        if judge.where(p, cwd) in ("sensitive", "outside"):
            judge.flag("high", f"{base} code deletes {p}, outside the workspace")
    for p in facts.changes:
        if judge.where(p, cwd) in ("sensitive", "outside"):
            judge.flag("high", f"{base} code writes to {p}, outside the workspace")
    if facts.dynamic:
        judge.flag("high", f"{base} code runs code built at run time ({facts.dynamic})")
    if facts.deletes:
        judge.flag("medium", f"{base} code deletes files")
    if facts.os_call:
        judge.flag("medium", f"{base} code calls the OS ({facts.os_call})")
    if facts.network:
        judge.flag("medium", f"{base} code reaches the network ({facts.network})")


def _rm(base: str, positional: list[str], flags: set[str], judge: _Judge, cwd: str) -> None:
    recursive = bool({"-r", "-R", "--recursive"} & flags) or base == "rmdir"
    if "--no-preserve-root" in flags:
        judge.flag("high", "rm --no-preserve-root")
    if not positional:  # xargs rm: the paths come from input it cannot see
        lvl: Risk = "high" if recursive else "medium"
        judge.flag(lvl, f"deletes paths read from input ({base} via xargs)")
        return
    for p in positional:
        where = judge.where(p, cwd)
        stripped = p.rstrip("/") or "/"
        everything = stripped in {
            ".", "*", "./*", "..", "/", "/*", "~", "$HOME", "${HOME}",
        } or posixpath.normpath(posixpath.join(cwd, p)) in {_WS, _WS + "/*"}  # fmt: skip
        if ("$" in p or "__subst__" in p) and recursive:
            judge.flag("high", f"recursive delete of a path built from a variable ({p})")
        elif where in ("sensitive", "outside"):
            judge.flag("high", f"{base} deletes {p}, outside the workspace")
        elif recursive and everything:
            judge.flag("high", f"recursive delete of everything in {p}")
        elif recursive:
            judge.flag("medium", f"recursive delete of {p} inside the workspace")


def _git(rest: list[str], judge: _Judge, cwd: str) -> None:
    k = 0
    while k < len(rest) and rest[k].startswith("-"):  # git's own options, before the verb
        opt, _, val = rest[k].partition("=")
        if opt in {"-c", "--config-env"}:
            setting = val or (rest[k + 1] if k + 1 < len(rest) else "")
            if not _GIT_SAFE_KEYS.match(setting.lower()):
                judge.flag("high", f"git -c {setting.split('=')[0]}: a setting can run a command")
            k += 2 if not val else 1
            continue
        if opt in {"-C", "--git-dir", "--work-tree", "--exec-path"}:
            target = val or (rest[k + 1] if k + 1 < len(rest) else "")
            if opt == "--exec-path" or judge.where(target, cwd) in ("sensitive", "outside"):
                judge.flag("high", f"git {opt} {target} acts outside the workspace")
            k += 2 if not val else 1
            continue
        k += 1
    args = rest[k:]
    flags = sw.flags(args)
    positional = [a for a in args if not a.startswith("-")]
    sub = positional[0] if positional else ""
    if "--help" in flags or "-h" in flags:
        return
    if sub == "push":
        if "--dry-run" in flags or "-n" in flags:
            return
        if {"-f", "--force", "--force-with-lease", "--mirror", "--delete", "-d"} & flags or any(
            p.startswith("+") or p.startswith(":") for p in positional[1:]
        ):
            judge.flag("high", "git push --force rewrites remote history")
        else:
            judge.flag("medium", "git push publishes to a remote")
    elif sub == "config":
        keys = [p for p in positional[1:2]]
        reading = {"--get", "--get-all", "--list", "-l", "--get-regexp", "--show-origin"} & flags
        if keys and not reading and len(positional) > 2:
            key = keys[0].lower()
            if key.startswith(("core.", "alias.", "filter.", "diff.", "merge.", "credential.",
                               "include", "uploadpack.", "receive.", "sequence.")) or (
                "hook" in key or "command" in key or "program" in key or "editor" in key
            ):  # fmt: skip
                judge.flag("high", f"git config {keys[0]}: a setting git runs as a command")
            elif "--global" in flags or "--system" in flags:
                judge.flag("medium", "git config changes settings outside the workspace")
    elif sub == "reset" and "--hard" in flags:
        judge.flag("medium", "git reset --hard discards uncommitted work")
    elif sub == "clean" and ("-f" in flags or "--force" in flags):
        judge.flag("medium", "git clean -f deletes untracked files")
    elif sub in {"filter-branch", "filter-repo"}:
        judge.flag("high", f"git {sub} rewrites history")
    elif sub == "branch" and "-D" in flags:
        judge.flag("medium", "git branch -D deletes an unmerged branch")


def _writer(base: str, rest: list[str], judge: _Judge, cwd: str) -> None:
    """Commands that write files: are their targets outside the workspace?"""
    spec = tables()["writers"][base]
    when = spec.get("when")
    values = set(spec.get("values", [])) | set(spec.get("targets", []))
    operands, targets = [], []
    k = 0
    in_place = not when
    while k < len(rest):
        a = rest[k]
        if a.startswith("-") and a != "-":
            key, eq, val = a.partition("=")
            if when and (key in when or set(when) & sw.flags([key])):
                in_place = True
            short_val = None
            if len(key) > 2 and not key.startswith("--") and key[:2] in values:
                short_val = key[2:]  # -C/dir, -ofile
                key = key[:2]
            if key in values:
                value = (
                    val
                    if eq
                    else short_val
                    if short_val
                    else (rest[k + 1] if k + 1 < len(rest) else "")
                )
                if key in spec.get("targets", []):
                    targets.append(value)
                k += 1 if (eq or short_val) else 2
                continue
            k += 1
            continue
        operands.append(a)
        k += 1
    kind = spec.get("operands", "all")
    if kind == "all-but-script":
        script_given = any(v in rest for v in ("-e", "-f", "--expression", "--file", "-E"))
        operands = operands if script_given else operands[1:]
        kind = "all" if in_place else "none"
    picked = {
        "all": operands, "last": operands[-1:], "first": operands[:1],
        "all-but-first": operands[1:], "none": [],
    }[kind]  # fmt: skip
    for p in [*picked, *targets]:
        _write_target(p, judge, cwd, f"{base} writes to")
    if base == "mv":
        for p in operands[:-1]:
            if judge.where(p, cwd) in ("sensitive", "outside") or p in {".", "*", "~", ".."}:
                judge.flag("high", f"mv moves {p} away")
    if base == "ln" and ("-s" in sw.flags(rest) or "--symbolic" in rest) and operands:
        for p in operands[:-1] if len(operands) > 1 else operands:
            if judge.where(p, cwd) in ("sensitive", "outside"):
                judge.flag("high", f"ln -s links to {p}, outside the workspace")


def _write_target(target: str, judge: _Judge, cwd: str, what: str) -> None:
    where = judge.where(target, cwd)
    if where == "sensitive":
        judge.flag("high", f"{what} {target}, a system or user file outside the workspace")
    elif where == "outside":
        judge.flag("high", f"{what} {target}, outside the workspace")
    elif _GIT_INTERNALS.search(posixpath.normpath(target)):
        judge.flag("high", f"{what} {target}: git runs what is there")
