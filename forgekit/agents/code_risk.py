"""What a snippet of interpreter code (python, perl, ruby, node, php, lua, awk) would do to
the system, read from its text: the shell commands it runs, the paths it deletes or
writes, whether it calls the OS, reaches the network or runs code built at run time.

The shell safety evaluator (forgekit.agents.safety) judges these facts; this module only
reads them. It is advice for the policy: the OS sandbox is what confines the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# a quoted string: '...' or "..."
_STR = r"""(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")"""
# calls that hand a string to a shell (or exec a program) in any of the languages
_RUNS = re.compile(
    r"(?:\bos\.system|\bos\.popen|\bsystem|\bpopen|\bexec[lv]?p?e?|\bexecSync|\bspawnSync|"
    r"\bspawn|\bcheck_output|\bcheck_call|\bgetoutput|\bgetstatusoutput|\bPopen|\brun|"
    r"\bcall|\bshell_exec|\bpassthru|\bproc_open|\bos\.execute|\bio\.popen|\bqx|%x|"
    r"\bIO\.popen|\bOpen3\.\w+)\s*[\(\{\[]?\s*\[?\s*" + _STR
)
_LIST_ARGV = re.compile(r"\[\s*((?:" + _STR + r"\s*,?\s*){2,})\]")
_BACKTICK = re.compile(r"`([^`]+)`")
_AWK_PIPE = re.compile(r"\|\s*" + _STR)
# verbs that delete or change files, in any of the languages
_DESTROY = re.compile(
    r"\b(?:unlink|unlinkSync|remove|removedirs|rmtree|rmdir|rmdirSync|rmSync|rm_rf|rm_r|"
    r"remove_tree|delete|truncate|truncateSync|shred)\s*\("
    r"|\bFileUtils\.rm|\b(?:unlink|rmdir)\s+[\w\"'$@]"
)
_CHANGE = re.compile(
    r"\b(?:chmod|chown|chmodSync|chownSync|rename|renameSync|replace|move|symlink|"
    r"symlinkSync|link|writeFile|writeFileSync|appendFile|appendFileSync|write_text|"
    r"write_bytes|file_put_contents|copyfile|copy|copy2|copytree|copyFileSync|cp|mv|"
    r"setfacl|utime)\b|\bopen\s*\([^)]*['\"][wax+]|>>?\s*['\"]/|\bFile\.(?:write|open)"
)
_OS = re.compile(
    r"\b(?:subprocess|os\.system|os\.popen|os\.exec\w*|os\.spawn\w*|pty|child_process|"
    r"execSync|spawnSync|shell_exec|passthru|proc_open|os\.execute|io\.popen|IO\.popen|"
    r"Open3|Kernel\.(?:system|exec)|system|exec|fork|forkpty)\b|`"
)
_NET = re.compile(
    r"\b(?:socket|urlopen|urllib|requests\.|http\.client|httpx|aiohttp|fetch\s*\(|"
    r"net\.connect|https?\.get|https?\.request|LWP|Net::HTTP|open-uri|curl_exec|"
    r"fsockopen|IO::Socket)\b"
)
_DYNAMIC = re.compile(
    r"\b(?:exec|eval|compile|__import__|Function|instance_eval|class_eval|loadstring|load)\s*\("
)
_PATH = re.compile(r"""['"]((?:/|~|\.\./)[^'"]*)['"]""")


@dataclass
class CodeFacts:
    """What the code would do, as far as its text tells."""

    commands: list[str] = field(default_factory=list)  # shell strings it runs
    destroys: list[str] = field(default_factory=list)  # absolute/home paths near a delete
    changes: list[str] = field(default_factory=list)  # absolute/home paths near a write
    deletes: bool = False
    os_call: str | None = None
    network: str | None = None
    dynamic: str | None = None


def _strings(m: re.Match[str]) -> str:
    return next((g for g in m.groups() if g is not None), "")


def analyse(lang: str, code: str) -> CodeFacts:
    """Read `code` written in `lang` (python, perl, ruby, node, php, lua, awk)."""
    facts = CodeFacts()
    for m in _RUNS.finditer(code):
        facts.commands.append(_strings(m))
    for m in _LIST_ARGV.finditer(code):
        words = re.findall(_STR, m.group(1))
        facts.commands.append(" ".join(a or b for a, b in words))
    if lang in {"perl", "ruby", "php", "node"}:
        facts.commands += [b for b in _BACKTICK.findall(code)]
    if lang == "awk":
        facts.commands += [_strings(m) for m in _AWK_PIPE.finditer(code)]
        facts.changes += re.findall(r""">>?\s*"(/[^"]*)\"""", code)
    paths = _PATH.findall(code)
    if _DESTROY.search(code):
        facts.deletes = True
        facts.destroys += paths
    if _CHANGE.search(code):
        facts.changes += paths
    if found := _OS.search(code):
        facts.os_call = found.group(0)
    if found := _NET.search(code):
        facts.network = found.group(0)
    if found := _DYNAMIC.search(code):
        facts.dynamic = found.group(0).rstrip("( ")
    return facts
