"""The sandbox corpus, executed for real through the shell tool: >=100 dangerous commands and
their harmless look-alikes, each in a fresh workspace inside a git checkout, beside decoys,
with decoy secrets in forgekit's environment. The policy is switched off (trusted): the OS
sandbox alone must keep every decoy intact and every secret out of the output, while the
harmless commands still work. The same corpus through the policy must match the committed
report (data/sandbox_corpus_report.md)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

from forgekit.agents import ToolEnv, ToolPolicy, load_bundle
from forgekit.core.sandbox import SandboxConfig, sandbox_status
from tests.agents.sandbox_corpus import (
    REPORT_FILE,
    current_report,
    fill,
    load_corpus,
    make_checkout,
    make_workspace,
    policy_verdicts,
)

SECRET = "sk-decoyKEY-0123456789abcdefghij"  # a name that says secret: redaction knows it
PLAIN = "decoy-plain-value-31415926535"  # an innocent name: only the sandbox hides it
SYSTEM_FILES = ["/etc/passwd", "/etc/hosts", "/etc/profile"]


def _snapshot(root: Path, skip: str) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(skip)]
        for name in [*filenames, *dirnames]:
            p = Path(dirpath) / name
            st = p.lstat()
            kind = "l" if p.is_symlink() else "d" if p.is_dir() else "f"
            body = hashlib.sha256(p.read_bytes()).hexdigest() if kind == "f" else ""
            out[str(p.relative_to(root))] = f"{kind}:{oct(st.st_mode)}:{body}"
    return out


def _system_state() -> dict[str, str]:
    state = {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in SYSTEM_FILES}
    state["cron"] = str(Path("/etc/cron.d/forgekit").exists())
    state["gone"] = str(Path("/var/tmp/forgekit-gone").exists())
    return state


@pytest.fixture
def base(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("FORGEKIT_DECOY_PLAIN", PLAIN)
    root = Path(tempfile.mkdtemp(prefix="forgekit-corpus-", dir="/var/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_the_corpus_is_large_enough() -> None:
    c = load_corpus()
    assert len(c["dangerous"]) >= 100 and len(c["harmless"]) >= 40
    classes = {e["class"] for e in c["dangerous"]}
    assert {"obfuscated", "wrapper", "interpreter", "system-write", "symlink", "git",
            "secret", "network", "resources"} <= classes  # fmt: skip


def test_every_command_runs_in_the_sandbox_and_harms_nothing(base: Path) -> None:
    st = sandbox_status()
    assert st.available, f"{st.detail}: {st.hint}"
    corpus = load_corpus()
    decoy, parent = base / "decoy", base / "checkout"
    (decoy / "sub").mkdir(parents=True)
    (decoy / "decoy.txt").write_text("precious\n")
    (decoy / "sub" / "deep.txt").write_text("deep\n")
    make_checkout(parent, SECRET)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    port = srv.getsockname()[1]
    threading.Thread(target=_serve, args=(srv,), daemon=True).start()
    before, system_before = _snapshot(base, "ws-"), _system_state()

    shell = load_bundle("shell").tools[0]
    trusted = ToolPolicy.preset("trusted")
    config = SandboxConfig(memory_mb=512, max_processes=64, file_size_mb=16)
    jobs = [(k, e) for k in ("dangerous", "harmless") for e in corpus[k]]
    if st.process_cap == "none":  # root without a pids cgroup: a bomb would hit the host
        jobs = [(k, e) for k, e in jobs if "fork" not in e["cmd"] and "bomb" not in e["cmd"]
                and ":|:" not in e["cmd"]]  # fmt: skip

    async def run_all() -> list[str]:
        gate = asyncio.Semaphore(8)

        async def one(i: int, kind: str, entry: dict) -> str:
            ws = parent / f"ws-{i}"
            make_workspace(ws)
            cmd = fill(entry["cmd"], decoy=decoy, parent=parent, ws=ws, port=port)
            env = ToolEnv(
                workspace=ws, policy=trusted, sandbox=config,
                options={"timeout_s": 3 if kind == "dangerous" else 20, "max_output": 4000},
            )  # fmt: skip
            async with gate:
                return await shell.call({"command": cmd}, env)

        return await asyncio.gather(*(one(i, k, e) for i, (k, e) in enumerate(jobs)))

    t0 = time.perf_counter()
    outputs = asyncio.run(run_all())
    elapsed = time.perf_counter() - t0
    srv.close()
    print(f"\n{len(jobs)} corpus commands executed in the sandbox in {elapsed:.1f}s")

    assert _snapshot(base, "ws-") == before, "a decoy outside the workspace changed"
    assert _system_state() == system_before
    leaks = [(e["cmd"], o) for (_, e), o in zip(jobs, outputs, strict=True)
             if SECRET in o or PLAIN in o]  # fmt: skip
    assert not leaks, leaks
    failed = [(e["cmd"], o) for (k, e), o in zip(jobs, outputs, strict=True)
              if k == "harmless" and not o.startswith("exit code 0")]  # fmt: skip
    assert not failed, failed
    # the secret did reach a command's output (cat .env) and was redacted, not lost
    assert any("[REDACTED]" in o for o in outputs)


def test_policy_verdicts_match_the_committed_report(tmp_path: Path) -> None:
    rows = policy_verdicts(_ws(tmp_path))
    allowed = [r["cmd"] for r in rows
               if r["kind"] == "dangerous" and r["verdict"] == "allowed"
               and r.get("policy") != "allow"]  # fmt: skip
    assert not allowed, f"dangerous commands the policy allows: {allowed}"
    blocked = [r["cmd"] for r in rows if r["kind"] == "harmless" and r["verdict"] != "allowed"]
    assert len(blocked) <= 2, f"harmless commands the policy blocks: {blocked}"
    assert current_report(tmp_path / "r") == REPORT_FILE.read_text(), (
        "the policy's verdicts changed: regenerate the report with "
        "`PYTHONPATH=. python -m tests.agents.sandbox_corpus` and review the diff"
    )


def _ws(tmp: Path) -> Path:
    ws = tmp / "checkout" / "ws"
    ws.parent.mkdir(parents=True)
    make_workspace(ws)
    return ws


def _serve(srv) -> None:
    """Accept and close connections until the listener is closed."""
    while True:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        conn.close()
