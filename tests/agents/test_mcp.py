"""MCP tools against real SDK servers (stdio and streamable HTTP): discovery, namespacing,
allow/deny, errors, a crashing server (reconnect), a slow server (timeout), list_changed,
and the connection lifecycle over many connect/disconnect cycles."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

pytest.importorskip("mcp", reason="the mcp extra is not installed")

from forgekit.agents import ToolError
from forgekit.agents.mcp import MCPHub, MCPServerConfig, parse_mcp_config
from forgekit.core.errors import ConfigError
from tests.agents.mcp_fixtures import OTHER, children, stdio


@pytest.fixture(scope="module")
def calc_hub(tmp_path_factory):
    hub = MCPHub({"servers": {"calc": stdio()}}, log_dir=tmp_path_factory.mktemp("mcp"))
    hub.start()
    yield hub
    hub.close()


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="exactly one of command"):
        parse_mcp_config({"servers": {"x": {"command": "a", "url": "http://h"}}})
    with pytest.raises(ConfigError, match=r"mcp\.servers\.x\.comand"):
        parse_mcp_config({"servers": {"x": {"comand": "a"}}})
    f = tmp_path / "forgekit.yaml"
    f.write_text("mcp:\n  servers:\n    calc:\n      command: python\n      alow: [add]\n")
    with pytest.raises(ConfigError) as e:
        parse_mcp_config({"servers": {}}, source=f)
    assert e.value.line == 5 and "alow" in str(e.value)


def test_env_vars_are_read_at_connect():
    cfg = MCPServerConfig(url="http://h/mcp", headers={"Authorization": "Bearer ${MCP_T}"})
    assert cfg.resolved({"MCP_T": "abc"}).headers == {"Authorization": "Bearer abc"}
    with pytest.raises(ConfigError, match="MCP_T is not set"):
        cfg.resolved({})


def test_stdio_tools_are_listed_with_schemas_and_called(calc_hub):
    tools = {t.name: t for t in calc_hub.tools()}
    assert {"add", "divide", "crash", "slow", "grow"} <= set(tools)
    add = tools["add"]
    assert add.qualified_name == "calc.add" and add.server == "calc"
    spec = add.to_openai()["function"]
    assert spec["parameters"]["required"] == ["a", "b"]  # the server's schema, as is
    assert asyncio.run(add.call({"a": 2, "b": 3})) == "5"
    with pytest.raises(ToolError, match="'b' is a required property"):
        add.validate({"a": 1})
    with pytest.raises(ToolError, match="returned an error: .*division by zero"):
        asyncio.run(tools["divide"].call({"a": 1, "b": 0}))


def test_stdio_server_runs_in_the_sandbox(calc_hub, tmp_path, monkeypatch):
    from forgekit.core.sandbox import sandbox_status

    if not sandbox_status().available:
        pytest.skip("no bubblewrap here: the server runs unsandboxed (tested below)")
    (row,) = calc_hub.status()
    assert row.sandboxed is True and row.unsandboxed_because is None
    monkeypatch.setenv("MY_SECRET_TOKEN", "sk-should-never-leak-123")  # set after start
    assert calc_hub.call("calc", "env_var", {"name": "PATH"}).content[0].text != "(unset)"
    assert calc_hub.call("calc", "env_var", {"name": "OPENAI_API_KEY"}).content[0].text == "(unset)"
    outside = tmp_path / "outside.txt"
    out = calc_hub.call("calc", "write_file", {"path": str(outside), "text": "x"})
    assert out.content[0].text.startswith("refused") and not outside.exists()


def test_a_sandboxed_server_script_under_a_masked_folder_still_starts(tmp_path):
    """The sandbox masks the home folder and the host's /tmp; a server script configured
    there (a user's project, a CI checkout under /tmp) is shown read-only, nothing else."""
    import shutil

    from forgekit.core.sandbox import sandbox_status

    if not sandbox_status().available:
        pytest.skip("no bubblewrap here")
    script = tmp_path / "proj" / "calc_server.py"
    script.parent.mkdir()
    shutil.copy(stdio()["args"][0], script)
    (tmp_path / "private.txt").write_text("not for the server")
    cfg = stdio(str(script), cwd=str(tmp_path / "ws"))
    (tmp_path / "ws").mkdir()
    with MCPHub({"servers": {"calc": cfg}}, log_dir=tmp_path / "logs") as hub:
        (row,) = hub.status()
        assert row.sandboxed is True and row.state == "ready", row
        assert hub.call("calc", "add", {"a": 2, "b": 3}).content[0].text == "5"


def test_sandbox_can_be_turned_off_per_server(tmp_path):
    with MCPHub({"servers": {"calc": stdio(sandbox=False)}}, log_dir=tmp_path) as hub:
        (row,) = hub.status()
        assert row.sandboxed is False and "sandbox is false" in row.unsandboxed_because
        target = tmp_path / "written.txt"
        assert (
            hub.call("calc", "write_file", {"path": str(target), "text": "x"}).content[0].text
            == "written"
        )
        assert target.read_text() == "x"


def test_slow_tool_times_out_and_the_connection_survives(tmp_path):
    with MCPHub({"servers": {"calc": stdio(call_timeout_s=0.3)}}, log_dir=tmp_path) as hub:
        slow = next(t for t in hub.tools() if t.name == "slow")
        t0 = time.monotonic()
        with pytest.raises(ToolError, match="timed out after call_timeout_s=0.3"):
            asyncio.run(slow.call({"seconds": 5}))
        assert time.monotonic() - t0 < 3
        assert hub.call("calc", "add", {"a": 1, "b": 1}).content[0].text == "2"
        assert hub.connections["calc"].connects == 1


def test_crash_mid_call_is_a_tool_error_then_reconnects(tmp_path):
    with MCPHub({"servers": {"calc": stdio()}}, log_dir=tmp_path) as hub:
        crash = next(t for t in hub.tools() if t.name == "crash")
        with pytest.raises(ToolError, match="went down during crash.*crashing on purpose"):
            asyncio.run(crash.call({}))
        # while it is down: a clear error, not a crash or a hang
        conn = hub.connections["calc"]
        if conn.state != "ready":
            with pytest.raises(ToolError, match="MCP server 'calc' is (down|connecting)"):
                hub.call("calc", "add", {"a": 1, "b": 2})
        assert hub.wait_ready("calc", 30)
        assert conn.connects == 2
        assert hub.call("calc", "add", {"a": 1, "b": 2}).content[0].text == "3"


def test_server_that_cannot_start_is_down_with_its_error(tmp_path):
    bad = {"command": "/nonexistent/mcp-server", "reconnect_initial_s": 0.05}
    with MCPHub({"servers": {"bad": bad}}, log_dir=tmp_path) as hub:
        (row,) = hub.status()
        assert row.state in ("down", "connecting") and row.tools == []
        assert "nonexistent" in (row.last_error or "")
        with pytest.raises(ToolError, match="MCP server 'bad' is"):
            hub.call("bad", "add", {})


def test_server_that_never_answers_hits_the_connect_timeout(tmp_path):
    before = children()
    mute = {"command": "/bin/sleep", "args": ["60"], "connect_timeout_s": 1}
    with MCPHub(
        {"servers": {"mute": {**mute, "reconnect_initial_s": 30}}}, log_dir=tmp_path
    ) as hub:
        (row,) = hub.status()
        assert row.state == "down" and "no answer within connect_timeout_s=1" in row.last_error
        with pytest.raises(ToolError, match="MCP server 'mute' is down .*connect_timeout_s=1"):
            hub.call("mute", "anything", {})
    assert children() == before  # the silent process was stopped with its connection


def test_tools_list_changed_is_picked_up(tmp_path):
    with MCPHub({"servers": {"calc": stdio()}}, log_dir=tmp_path) as hub:
        assert "shout" not in {t.name for t in hub.tools()}
        version = hub.connections["calc"].tools_version
        hub.call("calc", "grow", {})
        deadline = time.monotonic() + 10
        while hub.connections["calc"].tools_version == version and time.monotonic() < deadline:
            time.sleep(0.02)
        shout = next(t for t in hub.tools() if t.name == "shout")
        assert asyncio.run(shout.call({"text": "hi"})) == "HI"


def test_collisions_need_a_prefix_and_allow_deny_filter(tmp_path):
    servers = {"calc": stdio(), "other": stdio(OTHER)}
    with MCPHub({"servers": servers}, log_dir=tmp_path) as hub:
        with pytest.raises(ConfigError, match=r"'add' is offered by servers 'calc' and 'other'"):
            hub.tools()
    servers = {
        "calc": stdio(allow=["add", "div*"], deny=["divide"]),
        "other": stdio(OTHER, prefix="o_"),
    }
    with MCPHub({"servers": servers}, log_dir=tmp_path) as hub:
        names = {t.name: t.qualified_name for t in hub.tools()}
        assert names == {"add": "calc.add", "o_add": "other.add", "o_upper": "other.upper"}
        calc = next(r for r in hub.status() if r.name == "calc")
        assert "divide" in calc.hidden and "crash" in calc.hidden
        o_add = next(t for t in hub.tools() if t.name == "o_add")
        assert asyncio.run(o_add.call({"x": "a", "y": "b"})) == "ab"


def test_http_server_tools(http_server, tmp_path):
    with MCPHub({"servers": {"web": {"url": http_server}}}, log_dir=tmp_path) as hub:
        (row,) = hub.status(ping=True)
        assert row.transport == "http" and row.state == "ready" and row.ping_s is not None
        add = next(t for t in hub.tools() if t.name == "add")
        assert add.qualified_name == "web.add"
        assert asyncio.run(add.call({"a": 20, "b": 22})) == "42"


def test_http_server_restart_reconnects(http_server_control, tmp_path):
    start, kill, port = http_server_control
    start()
    cfg = {
        "url": f"http://127.0.0.1:{port}/mcp",
        "health_interval_s": 0.5,
        "reconnect_initial_s": 0.05,
        "reconnect_max_s": 0.2,
        "connect_timeout_s": 3,
    }
    with MCPHub({"servers": {"web": cfg}}, log_dir=tmp_path) as hub:
        assert hub.call("web", "add", {"a": 1, "b": 2}).content[0].text == "3"
        kill()
        with pytest.raises(ToolError, match="MCP server 'web' (went down|is down)"):
            hub.call("web", "add", {"a": 1, "b": 2})
        start()
        assert hub.wait_ready("web", 30)
        assert hub.call("web", "add", {"a": 1, "b": 2}).content[0].text == "3"
        assert hub.connections["web"].connects == 2


def test_http_server_down_is_a_clear_error(tmp_path):
    cfg = {"url": "http://127.0.0.1:9/mcp", "connect_timeout_s": 2, "reconnect_initial_s": 0.05}
    with MCPHub({"servers": {"gone": cfg}}, log_dir=tmp_path) as hub:
        with pytest.raises(ToolError, match="MCP server 'gone' is"):
            hub.call("gone", "add", {"a": 1, "b": 1})


def _call_from_everywhere(hub: MCPHub, i: int) -> str:
    """Call through asyncio.run, a fresh thread's loop, or the sync edge, in turn: the
    connection task never moves, whichever loop asks."""
    add = next(t for t in hub.tools() if t.name == "add")
    if i % 3 == 0:
        return asyncio.run(add.call({"a": i, "b": 1}))
    if i % 3 == 1:
        out: list[str] = []
        th = threading.Thread(target=lambda: out.append(asyncio.run(add.call({"a": i, "b": 1}))))
        th.start()
        th.join()
        return out[0]
    return hub.call("calc", "add", {"a": i, "b": 1}).content[0].text


def test_100_connect_disconnect_cycles_http(http_server, tmp_path):
    before = children()
    errors = []
    threads = threading.active_count()
    for i in range(100):
        try:
            hub = MCPHub({"servers": {"calc": {"url": http_server}}}, log_dir=tmp_path).start()
            assert _call_from_everywhere(hub, i) == str(i + 1)
            hub.close()
        except Exception as e:  # counted, not raised: the goal is zero
            errors.append(f"{i}: {type(e).__name__}: {e}")
    assert errors == []
    assert children() == before
    assert threading.active_count() <= threads


@pytest.mark.slow
def test_stdio_connect_disconnect_cycles_leave_no_process(tmp_path):
    before = children()
    errors = []
    for i in range(4):  # ~1.5 s each unloaded, nearly all of it the server's Python start
        try:
            hub = MCPHub({"servers": {"calc": stdio()}}, log_dir=tmp_path).start()
            assert _call_from_everywhere(hub, i) == str(i + 1)
            assert len(children() - before) == 1  # the server runs while connected
            hub.close()
        except Exception as e:
            errors.append(f"{i}: {type(e).__name__}: {e}")
    assert errors == []
    assert children() == before


def test_hub_and_server_configs_round_trip_as_components(tmp_path):
    from forgekit.core.component import build_component

    hub = MCPHub({"servers": {"calc": stdio(prefix="c_")}}, log_dir=tmp_path)
    data = hub.config()
    assert data["type"] == "mcp_hub"
    assert data["config"]["servers"]["calc"]["prefix"] == "c_"
    again = build_component(data)
    assert isinstance(again, MCPHub) and again is not hub
    assert again.config() == data and not again.started
