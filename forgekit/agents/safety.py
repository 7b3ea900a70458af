"""Command safety evaluator: how risky is a shell command, and why.

`assess_command("rm -rf /")` returns a `CommandRisk(level="high", reason=...)`. The
evaluator looks through the usual disguises before judging: quoting and backslashes
(`r''m`, `r\\m`), command substitution (`$(...)`, backticks, even inside double quotes),
`eval`, `sh -c` / `bash -c` strings, base64 payloads, ANSI-C escapes (`$'\\x72m'`),
`${IFS}`, variables set earlier on the line (`X=rm; $X -rf /`), and `cd` out of the
workspace. Text that is only data (`echo 'rm -rf /'`, `grep -r "rm -rf" .`) is not
executed and is not flagged.

Levels: ``high`` destroys data, escapes the workspace for writing, escalates privileges,
runs downloaded code or hides what it runs; ``medium`` has side effects beyond the
workspace (network, packages, history rewriting) or is interactive (would hang a headless
run); ``low`` everything else.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
import shlex
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Risk = Literal["low", "medium", "high"]
_ORDER = {"low": 0, "medium": 1, "high": 2}
_WS = "/__workspace__"
_OPS = {";", "&&", "||", "|", "&", "|&", ";;"}
_REDIRECTS = {">", ">>", ">|", "&>", "&>>", "<>"}
_WRAPPERS = {
    "sudo",
    "doas",
    "env",
    "nohup",
    "time",
    "nice",
    "ionice",
    "command",
    "builtin",
    "exec",
    "timeout",
    "stdbuf",
    "setsid",
    "xargs",
    "busybox",
    "chroot",
    "strace",
}
_SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "fish", "csh", "tcsh", "ash"}
_INTERPRETERS = {"python", "python3", "python2", "perl", "ruby", "node", "php", "lua"}
_INTERACTIVE = {
    "vi",
    "vim",
    "nvim",
    "nano",
    "emacs",
    "less",
    "more",
    "top",
    "htop",
    "man",
    "ssh",
    "telnet",
    "ftp",
    "sftp",
    "mysql",
    "psql",
    "sqlite3",
    "irb",
    "ipython",
    "jupyter",
    "watch",
    "tmux",
    "screen",
    "passwd",
    "visudo",
    "crontab-e",
}
_SYSTEM = {
    "shutdown",
    "reboot",
    "halt",
    "poweroff",
    "init",
    "telinit",
    "systemctl",
    "service",
    "iptables",
    "ip6tables",
    "ufw",
    "mount",
    "umount",
    "swapoff",
    "insmod",
    "rmmod",
    "modprobe",
    "useradd",
    "userdel",
    "usermod",
    "chpasswd",
}
_DISK = {"fdisk", "parted", "wipefs", "sfdisk", "gdisk", "cfdisk", "shred", "blkdiscard"}
_NETWORK = {"curl", "wget", "nc", "ncat", "netcat", "socat", "scp", "rsync", "ftp", "aria2c"}
_PACKAGES = {
    "pip",
    "pip3",
    "apt",
    "apt-get",
    "yum",
    "dnf",
    "brew",
    "npm",
    "gem",
    "cargo",
    "conda",
    "uv",
}
_SENSITIVE = re.compile(
    r"^(/etc|/boot|/bin|/sbin|/usr|/lib|/lib64|/var|/dev/(sd|nvme|hd|"
    r"mem|kmem|port|disk|mapper)\w*|/proc|/sys|/root|~|/home)(/|$)|"
    r"(^|/)\.(ssh|bashrc|profile|zshrc|bash_profile|gnupg|aws|kube)(/|$)"
)
_HARMLESS_DEV = {
    "/dev/null",
    "/dev/stdout",
    "/dev/stderr",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
    "/dev/tty",
}
_FORK_BOMB = re.compile(r"(\S+)\s*\(\s*\)\s*\{[^}]*\1\s*\|\s*\1\s*&[^}]*\}")
_B64 = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")
_PY_DANGER = re.compile(
    r"\b(os\.system|os\.popen|subprocess|shutil\.rmtree|os\.remove|"
    r"os\.unlink|os\.rmdir|__import__|exec\(|eval\(|pty\.spawn|"
    r"socket\.|\bsystem\(|\bunlink\(|\brmtree\b|`|child_process|execSync|spawnSync|"
    r"\bspawn\()"
)
# words that start a compound command; what follows them is the command that runs
_KEYWORDS = {
    "if",
    "then",
    "else",
    "elif",
    "do",
    "while",
    "until",
    "!",
    "{",
    "}",
    "fi",
    "done",
    "esac",
}


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

    def flag(self, level: Risk, reason: str) -> None:
        self.findings.append((level, reason))
        if _ORDER[level] > _ORDER[self.level]:
            self.level = level

    # -- paths -------------------------------------------------------------------------
    def where(self, path: str, cwd: str) -> str:
        """'inside', 'harmless' (e.g. /dev/null), 'sensitive' or 'outside'."""
        if path in _HARMLESS_DEV:
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


def _substitutions(cmd: str) -> tuple[str, list[str]]:
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


def _ansi_c(cmd: str) -> str:
    def dec(m: re.Match[str]) -> str:
        try:
            return m.group(1).encode().decode("unicode_escape")
        except UnicodeDecodeError:
            return m.group(0)

    return re.sub(r"\$'((?:[^'\\]|\\.)*)'", dec, cmd)


def _b64_payloads(text: str) -> list[str]:
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


def _tokens(cmd: str) -> list[str]:
    lex = shlex.shlex(cmd.replace("\n", " ; "), posix=True, punctuation_chars=";&|<>()")
    lex.whitespace_split = True
    lex.commenters = ""
    try:
        return list(lex)
    except ValueError:  # unbalanced quotes: fall back to a plain split
        return cmd.replace("\n", " ; ").split()


def _segments(tokens: list[str]) -> list[tuple[list[str], str]]:
    """Simple commands with the operator that precedes each (`|` means piped input)."""
    segs, cur, prev = [], [], ""
    for t in tokens:
        if t in _OPS or t in {"(", ")", "{", "}"}:
            if cur:
                segs.append((cur, prev))
            cur, prev = [], t if t in _OPS else prev
        else:
            cur.append(t)
    if cur:
        segs.append((cur, prev))
    return segs


def _flags(args: list[str]) -> set[str]:
    out: set[str] = set()
    for a in args:
        if a.startswith("--"):
            out.add(a)
        elif a.startswith("-") and len(a) > 1:
            out.update("-" + ch for ch in a[1:])
    return out


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
    if _FORK_BOMB.search(command):
        judge.flag("high", "fork bomb")
    text = command
    if re.search(r"\$\{?IFS\}?", text):
        judge.flag("high", "uses $IFS to hide spaces (obfuscation)")
        text = re.sub(r"\$\{?IFS\}?", " ", text)
    if re.search(r"\$'[^']*\\(x[0-9a-fA-F]{2}|[0-7]{3}|u[0-9a-fA-F]{4})", text):
        judge.flag("medium", "ANSI-C escapes hide characters")
        text = _ansi_c(text)
    if re.search(r"/dev/(tcp|udp)/", text):
        judge.flag("high", "opens a raw network connection (/dev/tcp), a reverse-shell pattern")
    text, subs = _substitutions(text)
    for sub in subs:
        inner = assess_command(sub, judge.workspace, _depth=depth + 1)
        if inner.level != "low":
            judge.flag(inner.level, f"command substitution runs: {inner.reason}")
    variables: dict[str, str] = {}
    cwd = _WS
    tokens = _tokens(text)
    segments = _segments(tokens)
    prev_cmd = ""
    for args, op in segments:
        # expand variables set earlier on the line
        args = [_expand(a, variables) for a in args]
        while args and re.fullmatch(r"[A-Za-z_]\w*=.*", args[0]):
            name, _, value = args.pop(0).partition("=")
            variables[name] = value
        while args and args[0] in _KEYWORDS:
            args.pop(0)
        if args and args[0] == "function" or len(args) > 1 and args[1] == "()":
            continue  # a function definition: its body is a later segment
        if not args:
            continue
        cwd = _simple(args, op, prev_cmd, judge, cwd, depth)
        prev_cmd = posixpath.basename(args[0])


def _expand(arg: str, variables: dict[str, str]) -> str:
    for name, value in variables.items():
        arg = arg.replace("${" + name + "}", value).replace("$" + name, value)
    return arg


def _simple(args: list[str], op: str, prev_cmd: str, judge: _Judge, cwd: str, depth: int) -> str:
    # redirections anywhere in the command
    clean: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in _REDIRECTS or a in {">", ">>"}:
            target = args[i + 1] if i + 1 < len(args) else ""
            if target and not target.startswith("&") and not target.isdigit():
                _write_target(target, judge, cwd, "redirects output to")
            i += 2
            continue
        if a == "<":
            i += 2
            continue
        clean.append(a)
        i += 1
    args = clean
    # unwrap sudo / env / timeout / xargs ...
    while args and posixpath.basename(args[0]) in _WRAPPERS:
        w = posixpath.basename(args.pop(0))
        if w in {"sudo", "doas", "chroot"}:
            judge.flag("high", f"{w} escalates privileges")
        while args and (
            args[0].startswith("-")
            or re.fullmatch(r"[\d.]+[smhd]?", args[0])
            or re.fullmatch(r"[A-Za-z_]\w*=.*", args[0])
        ):
            args.pop(0)
    if not args:
        return cwd
    name = args[0]
    base = posixpath.basename(name)
    rest = args[1:]
    flags = _flags(rest)
    positional = [a for a in rest if not a.startswith("-")]
    if name.startswith("$") or name == "__subst__":
        judge.flag(
            "high", "the command name comes from a variable or substitution (cannot tell what runs)"
        )
        return cwd
    if op == "|" and (base in _SHELLS or base in _INTERPRETERS) and not positional:
        judge.flag("high", f"pipes {prev_cmd or 'data'} into {base}: runs code it cannot see")
    for p in _b64_payloads(" ".join(rest)):
        inner = assess_command(p, judge.workspace, _depth=depth + 1)
        if inner.level != "low":
            judge.flag("high", f"base64 payload hides: {inner.reason}")
    if base == "base64" and ("-d" in flags or "--decode" in flags):
        judge.flag("medium", "decodes base64 (often used to hide commands)")
    if base in {"cd", "pushd"}:
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
    if base == "eval":
        body = " ".join(rest)
        if "$" in body:
            judge.flag("high", "eval of an expanded value (cannot tell what runs)")
        _sub(body, judge, depth, "eval runs")
    elif base in _SHELLS or base in _INTERPRETERS:
        _interpreter(base, rest, flags, judge, depth)
    elif base == "rm" or base == "rmdir" or base == "unlink":
        _rm(base, positional, flags, judge, cwd)
    elif base == "find":
        if "-delete" in rest or any(a in rest for a in ("-exec", "-execdir", "-ok")):
            roots = [a for a in rest[:3] if not a.startswith("-")] or ["."]
            lvl: Risk = "high" if any(judge.where(r, cwd) != "inside" for r in roots) else "medium"
            judge.flag(lvl, "find deletes or runs a command on every match")
            if "-exec" in rest:
                k = rest.index("-exec")
                _sub(
                    " ".join(x for x in rest[k + 1 :] if x not in {"{}", "\\;", ";", "+"}),
                    judge,
                    depth,
                    "find -exec runs",
                )
    elif base in {"source", "."}:
        if any(a == "__subst__" for a in rest):
            judge.flag("high", f"{base} runs code produced by another command")
        for t in positional[:1]:
            if judge.where(t, cwd) in ("sensitive", "outside"):
                judge.flag("medium", f"{base} runs a script from outside the workspace ({t})")
    elif base == "alias":
        for a in rest:
            _sub(a.partition("=")[2], judge, depth, "the alias runs")
    elif base in {"awk", "gawk", "mawk", "nawk"}:
        for a in rest:
            for inner in re.findall(r"system\(\s*\"([^\"]+)\"", a):
                _sub(inner, judge, depth, f"{base} system() runs")
            if re.search(r"\|\s*\"(sh|bash)", a) or "system(" in a and "$" in a:
                judge.flag("high", f"{base} runs a shell command it builds")
    elif base in {"docker", "podman"}:
        joined = " ".join(rest)
        if "--privileged" in rest or re.search(r"-v\s+/(:|\s)|--volume[= ]/:", joined):
            judge.flag("high", f"{base} container with host root access")
        elif positional and positional[0] in {
            "run",
            "exec",
            "rm",
            "rmi",
            "system",
            "kill",
            "stop",
            "build",
            "push",
        }:
            judge.flag("medium", f"{base} {positional[0]} changes containers")
    elif base in _DISK or base.startswith("mkfs") or base in {"mke2fs", "mkswap"}:
        judge.flag("high", f"{base} destroys a filesystem or disk contents")
    elif base == "dd":
        for a in rest:
            if a.startswith("of="):
                where = judge.where(a[3:], cwd)
                judge.flag(
                    "high" if where in ("sensitive", "outside") else "medium",
                    f"dd writes raw data to {a[3:]}",
                )
    elif base in {"chmod", "chown", "chgrp"}:
        recursive = bool({"-R", "--recursive"} & flags)
        targets = positional[1:]
        bad = [t for t in targets if judge.where(t, cwd) in ("sensitive", "outside")]
        if bad:
            judge.flag("high", f"{base} changes permissions outside the workspace ({bad[0]})")
        elif recursive and positional and positional[0] in {"777", "a+rwx", "o+w"}:
            judge.flag("medium", f"{base} -R {positional[0]} opens every file for writing")
    elif base in {"mv", "cp", "ln", "tee", "truncate", "install", "rsync", "touch", "mkdir"}:
        targets = positional if base in {"tee", "truncate", "touch", "mkdir"} else positional[-1:]
        for t in targets:
            _write_target(t, judge, cwd, f"{base} writes to")
        if base == "mv":
            for t in positional[:-1]:
                if judge.where(t, cwd) in ("sensitive", "outside") or t in {".", "*", "~"}:
                    judge.flag("high", f"mv moves {t} away")
    elif base == "git":
        _git(positional, flags, rest, judge)
    elif base in _SYSTEM or (base == "kill" and ("-1" in rest or "1" in positional)):
        judge.flag("high", f"{base} changes the system or kills processes")
    elif base == "kill":
        judge.flag("medium", "kill stops processes")
    elif base == "crontab" and not ({"-l"} & flags):
        judge.flag("medium", "crontab changes or erases scheduled jobs")
    elif base in {"killall", "pkill"}:
        judge.flag("high", f"{base} kills processes by name")
    elif base in {"su"}:
        judge.flag("high", "su escalates privileges")
    elif base in _NETWORK:
        if not ({"--version", "--help", "-V"} & set(rest)):
            judge.flag("medium", f"{base} reaches the network")
        if ("-e" in flags or "-c" in flags) and base in {"nc", "ncat", "netcat"}:
            judge.flag("high", f"{base} -e serves a shell over the network")
        for a in rest:
            if a.startswith("-o") or a.startswith("--output"):
                pass
    elif base in _PACKAGES and any(
        p in positional for p in ("install", "uninstall", "remove", "add", "purge")
    ):
        judge.flag("medium", f"{base} changes installed packages")
    elif base in _INTERACTIVE:
        judge.flag("medium", f"{base} is interactive and would hang a headless run")
    elif base == "history" and "-c" in flags:
        judge.flag("medium", f"{base} erases user data")
    else:
        for a in positional:
            if judge.where(a, cwd) == "sensitive" and _SENSITIVE_READ.search(a):
                judge.flag("high", f"reads secrets ({a})")
    return cwd


_SENSITIVE_READ = re.compile(
    r"/etc/shadow|/etc/sudoers|\.ssh/|id_rsa|\.aws/|\.gnupg|"
    r"\.netrc|\.kube/config"
)


def _sub(body: str, judge: _Judge, depth: int, what: str) -> None:
    inner = assess_command(body, judge.workspace, _depth=depth + 1)
    if inner.level != "low":
        judge.flag(inner.level, f"{what}: {inner.reason}")


def _interpreter(base: str, rest: list[str], flags: set[str], judge: _Judge, depth: int) -> None:
    code = None
    for k, a in enumerate(rest):
        if a in {"-c", "-e", "-E", "--eval", "-lc", "-ec"} and k + 1 < len(rest):
            code = rest[k + 1]
            break
    if code is None:
        if any(a == "__subst__" for a in rest):
            judge.flag("high", f"{base} runs code produced by another command")
        elif not rest or rest == ["-i"] or "-i" in flags:
            judge.flag("medium", f"{base} without a script is interactive")
        return
    if base in _SHELLS:
        _sub(code, judge, depth, f"{base} -c runs")
    elif _PY_DANGER.search(code):
        shell_bits = re.findall(
            r"""(?:system|popen|run|call|check_output|Popen|execSync|exec|spawn)\(\s*\[?\s*["']"""
            r"""([^"']+)["']""",
            code,
        )
        for s in shell_bits:
            _sub(s, judge, depth, f"{base} code runs")
        lvl: Risk = (
            "high"
            if re.search(
                r"rmtree|remove|unlink|rmdir|socket|pty|urlopen|"
                r"requests|exec\(|eval\(",
                code,
            )
            else "medium"
        )
        judge.flag(lvl, f"{base} code calls the OS ({_PY_DANGER.search(code).group(0)})")


def _rm(base: str, positional: list[str], flags: set[str], judge: _Judge, cwd: str) -> None:
    recursive = bool({"-r", "-R", "--recursive"} & flags) or base == "rmdir"
    force = bool({"-f", "--force"} & flags)
    if "--no-preserve-root" in flags:
        judge.flag("high", "rm --no-preserve-root")
    if not positional:
        if recursive:
            judge.flag("high", f"recursive delete of paths read from input ({base} via xargs)")
        return
    for t in positional:
        where = judge.where(t, cwd)
        stripped = t.rstrip("/") or "/"
        everything = stripped in {
            ".",
            "*",
            "./*",
            "..",
            "/",
            "/*",
            "~",
            "$HOME",
            "${HOME}",
        } or posixpath.normpath(posixpath.join(cwd, t)) in {_WS, _WS + "/*"}
        if ("$" in t or "__subst__" in t) and recursive:
            judge.flag("high", f"recursive delete of a path built from a variable ({t})")
        elif where in ("sensitive", "outside"):
            judge.flag("high", f"{base} deletes {t}, outside the workspace")
        elif recursive and everything:
            judge.flag("high", f"recursive delete of everything in {t}")
        elif recursive or (force and "*" in t):
            judge.flag("medium", f"recursive delete of {t} inside the workspace")


def _git(positional: list[str], flags: set[str], rest: list[str], judge: _Judge) -> None:
    sub = positional[0] if positional else ""
    if "--help" in flags or "-h" in flags:
        return
    if sub == "push":
        if {"-f", "--force", "--force-with-lease", "--mirror", "--delete", "-d"} & flags or any(
            p.startswith("+") or p.startswith(":") for p in positional[1:]
        ):
            judge.flag("high", "git push --force rewrites remote history")
        else:
            judge.flag("medium", "git push publishes to a remote")
    elif sub == "reset" and "--hard" in flags:
        judge.flag("medium", "git reset --hard discards uncommitted work")
    elif sub == "clean" and ("-f" in flags or "--force" in flags):
        judge.flag("medium", "git clean -f deletes untracked files")
    elif sub in {"filter-branch", "filter-repo"}:
        judge.flag("high", f"git {sub} rewrites history")
    elif sub == "branch" and "-D" in flags:
        judge.flag("medium", "git branch -D deletes an unmerged branch")


def _write_target(target: str, judge: _Judge, cwd: str, what: str) -> None:
    where = judge.where(target, cwd)
    if where == "sensitive":
        judge.flag("high", f"{what} {target}, a system or user file outside the workspace")
    elif where == "outside":
        judge.flag("high", f"{what} {target}, outside the workspace")
