"""The stub server itself: concurrency, scripted faults, the command line."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

from forgekit.models.stub_server import Fault, StubServer


async def _post(session, url: str, content: str) -> tuple[int, dict]:
    body = {"model": "stub", "messages": [{"role": "user", "content": content}]}
    async with session.post(f"{url}/chat/completions", json=body) as r:
        return r.status, json.loads(await r.text())


def test_serves_64_concurrent_requests_concurrently():
    import aiohttp

    with StubServer(latency_ms=200) as stub:

        async def run() -> list:
            async with aiohttp.ClientSession() as s:
                return await asyncio.gather(*(_post(s, stub.url, f"q{i}") for i in range(64)))

        t0 = time.perf_counter()
        results = asyncio.run(run())
        elapsed = time.perf_counter() - t0
        assert stub.count == 64
    assert all(status == 200 for status, _ in results)
    assert sorted(b["choices"][0]["message"]["content"] for _, b in results) == sorted(
        f"stub: q{i}" for i in range(64)
    )
    assert elapsed < 64 * 0.2 / 4  # served side by side, not one after another


def test_scripted_faults_and_tool_calls():
    import aiohttp

    with StubServer() as stub:
        stub.script(
            [
                Fault.status(429, retry_after=2),
                Fault.tool_call("get_weather", {"city": "Paris"}),
                lambda body: f"saw {len(body['messages'])} message(s)",
            ]
        )

        async def run() -> list:
            async with aiohttp.ClientSession() as s:
                out = []
                for _ in range(3):
                    out.append(await _post(s, stub.url, "x"))
                async with s.post(f"{stub.url}/chat/completions", json={}) as r:
                    assert r.status == 200
                return out

        (s1, b1), (s2, b2), (s3, b3) = asyncio.run(run())
    assert s1 == 429 and b1["error"]["code"] == 429
    call = b2["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert b3["choices"][0]["message"]["content"] == "saw 1 message(s)"


def test_command_line_prints_ready_and_stops_on_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-m", "forgekit.models.stub_server", "--latency-ms", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:") and line.endswith("/v1")
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_spawned_as_a_managed_process_healthy_then_stopped(tmp_path):
    import urllib.request

    from forgekit.core.processes import group_alive
    from forgekit.models.stub_server import spawn_stub

    log = tmp_path / "stub.log"
    with spawn_stub(latency_ms=0, reply="four", log_path=log) as stub:
        body = json.dumps({"model": "stub", "messages": [{"role": "user", "content": "hi"}]})
        req = urllib.request.Request(
            f"{stub.url}/chat/completions", data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.loads(r.read())["choices"][0]["message"]["content"] == "four"
        pid = stub.pid
    assert stub.returncode == 0 and not group_alive(pid)  # SIGTERM: a clean exit
    assert "READY" in log.read_text()


def test_http11_on_one_connection_pipelined_chunked_and_errors():
    """Its own HTTP/1.1 parser: requests arriving in one write (pipelined) are answered
    in order, a chunked body reads like a Content-Length one, unknown routes and methods
    get 404/405, bad JSON a 400, and `Connection: close` closes after the answer."""
    import socket

    def post(content: str, extra: str = "") -> bytes:
        body = json.dumps({"messages": [{"role": "user", "content": content}]}).encode()
        return (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n{extra}"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    chunked = json.dumps({"messages": [{"role": "user", "content": "chunky"}]}).encode()
    chunked_req = (b"POST /chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                   b"\r\n\r\n" + b"".join(
                       f"{len(part):x}\r\n".encode() + part + b"\r\n"
                       for part in (chunked[:10], chunked[10:])) + b"0\r\n\r\n")
    with StubServer(latency_ms=20) as stub:
        stub.script([Fault.delay(0.1, "slow first")])  # the first answer takes longest
        with socket.create_connection(("127.0.0.1", stub.port), timeout=10) as s:
            s.sendall(post("one", "Authorization: Bearer k\r\n") + post("two") + chunked_req
                      + b"GET /v1/nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
                      + b"GET /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n"
                      + b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 3\r\n\r\n{x}"
                      + post("last", "Connection: close\r\n"))
            data = b""
            while chunk := s.recv(65536):  # the server closes after the last answer
                data += chunk
        assert stub.headers[0]["Authorization"] == "Bearer k"
        assert [r["messages"][0]["content"] for r in stub.requests] == [
            "one", "two", "chunky", "last"]
    parts = data.split(b"HTTP/1.1 ")[1:]
    statuses = [int(p[:3]) for p in parts]
    assert statuses == [200, 200, 200, 404, 405, 400, 200]
    texts = [json.loads(p.split(b"\r\n\r\n", 1)[1])["choices"][0]["message"]["content"]
             for p, st in zip(parts, statuses, strict=True) if st == 200]
    assert texts == ["slow first", "stub: two", "stub: chunky", "stub: last"]


def test_a_client_that_expects_100_continue_gets_it():
    """`Expect: 100-continue` (curl's way with larger bodies): the stub says go on after
    the head, once, then answers the request as usual."""
    import socket

    body = json.dumps({"messages": [{"role": "user", "content": "later"}]}).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with StubServer() as stub, socket.create_connection(("127.0.0.1", stub.port), timeout=10) as s:
        s.sendall(head)
        assert s.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        answer = s.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["choices"][0]["message"]["content"] == (
        "stub: later")
