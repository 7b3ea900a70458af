"""A small OpenAI-compatible HTTP server on loopback, with fixed latency and fault injection.

Used by the gateway's tests and by benchmarks (any engineer's): it answers
`POST /v1/chat/completions` (and `/chat/completions`) and `GET /v1/models`, on 127.0.0.1
only, on a minimal HTTP/1.1 server of its own (an `asyncio.Protocol`: keep-alive,
Content-Length or chunked bodies), so 64+ concurrent requests cost little CPU.

In a test (runs in a background thread, stopped on exit)::

    from forgekit.models.stub_server import StubServer, Fault

    with StubServer(latency_ms=0) as stub:
        stub.script([Fault.status(429, retry_after=0.2), Fault.status(500), "hello"])
        # alias config: model="openai/stub", api_base=stub.url, api_key_env=...
        ...
        assert stub.count == 3
        stub.requests[-1]["messages"]  # the JSON bodies received, in order

Script entries are consumed one per request, in order; when the script is empty every
request gets the default reply. An entry is one of:

- a string: the reply text (``"hello"``)
- ``Fault.status(code, retry_after=None, body=None)``: an HTTP error (429, 500, 503, ...)
- ``Fault.malformed()``: status 200 with a body that is not JSON
- ``Fault.truncated()``: status 200 announcing a full body, cut off halfway (then closed)
- ``Fault.reset()``: the connection is dropped without an answer
- ``Fault.hang()``: never answers (until the server stops)
- ``Fault.delay(seconds, reply=None)``: answers after an extra delay
- ``Fault.tool_call(name, arguments)``: a reply with one tool call
- a callable ``(request_json) -> entry``: decided per request

Other knobs: ``StubServer(latency_ms=50, reply=None, port=0)``; ``reply=None`` answers
``"stub: <last user message>"``. Usage counts words (prompt and reply). ``stub.reset()``
clears script and counters. ``stub.model_name`` is what `/v1/models` lists.

As a process (benchmarks)::

    python -m forgekit.models.stub_server --port 8765 --latency-ms 50

prints ``READY http://127.0.0.1:8765/v1`` on stdout once it listens, and serves until
killed (SIGTERM/SIGINT). ``spawn_stub(latency_ms=50)`` starts that process on a free port
as a `forgekit.core.processes.ManagedServer`, healthy when it returns (``.url`` is the
api_base; ``.stop()`` or ``with``)::

    with spawn_stub(latency_ms=50, reply="four") as stub:
        ...  # api_base=stub.url
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forgekit.core.processes import ManagedServer, free_port

HOST = "127.0.0.1"


@dataclass
class Fault:
    """One scripted behaviour of the stub server (see the module docstring)."""

    kind: str
    code: int = 200
    retry_after: float | None = None
    body: str | None = None
    seconds: float = 0.0
    reply: str | None = None
    tool: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def status(cls, code: int, retry_after: float | None = None, body: str | None = None) -> Fault:  # noqa: D102
        return cls("status", code=code, retry_after=retry_after, body=body)

    @classmethod
    def malformed(cls) -> Fault:  # noqa: D102
        return cls("malformed")

    @classmethod
    def truncated(cls) -> Fault:  # noqa: D102
        return cls("truncated")

    @classmethod
    def reset(cls) -> Fault:  # noqa: D102
        return cls("reset")

    @classmethod
    def hang(cls) -> Fault:  # noqa: D102
        return cls("hang")

    @classmethod
    def delay(cls, seconds: float, reply: str | None = None) -> Fault:  # noqa: D102
        return cls("delay", seconds=seconds, reply=reply)

    @classmethod
    def tool_call(cls, name: str, arguments: dict[str, Any]) -> Fault:  # noqa: D102
        return cls("tool", tool={"name": name, "arguments": arguments})


Entry = str | Fault | Callable[[dict[str, Any]], Any]
_ids = itertools.count()


def _completion(body: dict[str, Any], text: str | None, tool: dict[str, Any] | None) -> bytes:
    prompt_words = sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []))
    message: dict[str, Any] = {"role": "assistant", "content": text}
    finish = "stop"
    if tool:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": f"call_{next(_ids)}",
                "type": "function",
                "function": {"name": tool["name"], "arguments": json.dumps(tool["arguments"])},
            }
        ]
        finish = "tool_calls"
    out_words = len((text or "").split()) if not tool else 5
    return json.dumps(
        {
            "id": f"chatcmpl-{next(_ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt_words,
                "completion_tokens": out_words,
                "total_tokens": prompt_words + out_words,
            },
        }
    ).encode()


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}
_MAX_HEAD = 64 * 1024  # a request head longer than this is refused


def _response(code: int, body: bytes, headers: dict[str, str] | None = None,
              length: int | None = None) -> bytes:
    """An HTTP/1.1 response: status line, headers and body (`length`: the announced
    Content-Length, for a truncated body)."""
    reason = _REASONS.get(code)
    if reason is None:
        from http import HTTPStatus

        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = "Unknown"
    head = [f"HTTP/1.1 {code} {reason}",
            "Content-Type: application/json; charset=utf-8",
            f"Content-Length: {len(body) if length is None else length}"]
    for k, v in (headers or {}).items():
        head.append(f"{k}: {v}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def _error(code: int, message: str) -> bytes:
    return _response(code, json.dumps({"error": {"message": message}}).encode())


def _drop(transport: asyncio.Transport) -> None:
    """Close the connection at once (an RST, not a clean FIN)."""
    import socket
    import struct

    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _Connection(asyncio.Protocol):
    """One client connection: HTTP/1.1 requests parsed from the bytes as they come
    (Content-Length or chunked bodies, keep-alive), answered in order, one at a time.

    The common answer (a reply after the fixed latency) is one timer and one write: no
    task, no framework. That keeps the stub's CPU per request small, and the stub shares
    the cores with the clients a benchmark measures."""

    def __init__(self, server: StubServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.queue: list[tuple[str, str, dict[str, str], bytes, bool]] = []
        self.busy = False  # a request is being answered
        self.closed = False
        self.continued = False  # `100 Continue` sent for the request being read

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.server._conns.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server._conns.discard(self)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            req = self._parse()
            if req is None:
                break
            self.queue.append(req)
        if not self.busy:
            self._next()

    def _parse(self) -> tuple[str, str, dict[str, str], bytes, bool] | None:
        """The next complete request in the buffer (removed from it), or None."""
        buf = self.buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > _MAX_HEAD:
                self._fail(_error(400, "request head too long"))
            return None
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            self._fail(_error(400, "bad request line"))
            return None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        low = {k.lower(): v for k, v in headers.items()}
        pos = end + 4
        if "chunked" in low.get("transfer-encoding", "").lower():
            body = bytearray()
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    self._more(low)
                    return None
                size = int(bytes(buf[pos:eol]).split(b";")[0] or b"0", 16)
                if size == 0:
                    trailer = buf.find(b"\r\n\r\n", eol)
                    if trailer < 0:
                        self._more(low)
                        return None
                    pos = trailer + 4
                    break
                if len(buf) < eol + 2 + size + 2:
                    self._more(low)
                    return None
                body += buf[eol + 2 : eol + 2 + size]
                pos = eol + 2 + size + 2
            raw = bytes(body)
        else:
            length = int(low.get("content-length", "0") or 0)
            if len(buf) < pos + length:
                self._more(low)
                return None
            raw = bytes(buf[pos : pos + length])
            pos += length
        del buf[:pos]
        self.continued = False
        conn = low.get("connection", "").lower()
        keep = conn != "close" and (version != "HTTP/1.0" or conn == "keep-alive")
        return method, target.split("?", 1)[0], headers, raw, keep

    def _more(self, low: dict[str, str]) -> None:
        """The body is still to come: a client that expects `100 Continue` gets it, once."""
        if (not self.continued and low.get("expect", "").lower() == "100-continue"
                and self.transport is not None and not self.closed):
            self.continued = True
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _fail(self, response: bytes) -> None:
        self.buf.clear()
        self.queue.clear()
        if self.transport is not None and not self.closed:
            self.transport.write(response)
            self.transport.close()

    def _next(self) -> None:
        """Answer the next queued request, if any (one at a time: answers stay in order)."""
        if not self.queue or self.closed:
            return
        self.busy = True
        method, path, headers, raw, keep = self.queue.pop(0)
        self.server._handle(self, method, path, headers, raw, keep)

    def send(self, response: bytes, keep: bool = True) -> None:
        """Write an answer, then go on with the next request (or close)."""
        self.busy = False
        if self.closed or self.transport is None:
            return
        self.transport.write(response)
        if not keep:
            self.transport.close()
            self.closed = True
            return
        if self.queue:
            self._next()

    def drop(self) -> None:
        self.busy = False
        if self.transport is not None and not self.closed:
            self.closed = True
            _drop(self.transport)


class StubServer:
    """The stub server; a context manager that serves from a background thread."""

    def __init__(
        self,
        *,
        latency_ms: float = 0.0,
        reply: str | None = None,
        port: int = 0,
        model_name: str = "stub",
    ) -> None:
        self.latency_s = latency_ms / 1000.0
        self.reply = reply
        self.port = port
        self.model_name = model_name
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.count = 0
        self._script: list[Entry] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._conns: set[_Connection] = set()
        self._hangs: set[_Connection] = set()
        self._tasks: set[asyncio.Task] = set()

    # ---- scripting --------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The api_base to give litellm: ``http://127.0.0.1:PORT/v1``."""
        return f"http://{HOST}:{self.port}/v1"

    def script(self, entries: Sequence[Entry]) -> None:
        """Append entries, consumed one per request in order."""
        with self._lock:
            self._script.extend(entries)

    def reset(self) -> None:
        """Forget the script, the recorded requests and the counter."""
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.headers.clear()
            self.count = 0

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> Any:
        with self._lock:
            self.count += 1
            self.requests.append(body)
            self.headers.append(headers)
            entry: Any = self._script.pop(0) if self._script else None
        if callable(entry) and not isinstance(entry, Fault):
            entry = entry(body)
        return entry

    # ---- answering --------------------------------------------------------------------
    def _handle(self, conn: _Connection, method: str, path: str, headers: dict[str, str],
                raw: bytes, keep: bool) -> None:
        if path.startswith("/v1/"):
            path = path[3:]
        if path == "/models":
            if method != "GET":
                return conn.send(_error(405, "method not allowed"), keep)
            models = {
                "object": "list",
                "data": [{"id": self.model_name, "object": "model", "owned_by": "forgekit-stub"}],
            }
            return conn.send(_response(200, json.dumps(models).encode()), keep)
        if path != "/chat/completions":
            return conn.send(_error(404, f"no route {path}"), keep)
        if method != "POST":
            return conn.send(_error(405, "method not allowed"), keep)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return conn.send(_error(400, "bad json"), keep)
        entry = self._next(body, headers)
        if entry is None or isinstance(entry, str):  # the common case: one timer, one write
            answer = self._answer(body, entry, None)
            if self.latency_s:
                self._loop.call_later(self.latency_s, conn.send, answer, keep)  # type: ignore[union-attr]
            else:
                conn.send(answer, keep)
            return
        task = asyncio.ensure_future(self._fault(conn, body, entry, keep))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _answer(self, body: dict[str, Any], text: str | None, tool: dict[str, Any] | None) -> bytes:
        if text is None and tool is None:
            text = self.reply
            if text is None:
                last: dict[str, Any] = next(
                    (m for m in reversed(body.get("messages", [])) if m.get("role") == "user"), {}
                )
                text = f"stub: {last.get('content') or ''}"
        return _response(200, _completion(body, text, tool))

    async def _fault(self, conn: _Connection, body: dict[str, Any], entry: Fault, keep: bool) -> None:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if entry.kind == "status":
            headers = {}
            if entry.retry_after is not None:
                headers["Retry-After"] = f"{entry.retry_after:g}"
            payload = entry.body or json.dumps(
                {"error": {"message": f"stub fault {entry.code}", "type": "stub_error",
                           "code": entry.code}}
            )
            return conn.send(_response(entry.code, payload.encode(), headers), keep)
        if entry.kind == "malformed":
            return conn.send(_response(200, b'{"id": "x", "choices": ['), keep)
        if entry.kind == "truncated":
            full = _completion(body, "this reply is cut off", None)
            if conn.transport is not None and not conn.closed:
                conn.transport.write(_response(200, full[: len(full) // 2], length=len(full)))
            return conn.drop()
        if entry.kind == "reset":
            return conn.drop()
        if entry.kind == "hang":  # answered 503 when the server stops
            self._hangs.add(conn)
            return None
        text: str | None = None
        tool = None
        if entry.kind == "delay":
            await asyncio.sleep(entry.seconds)
            text = entry.reply
        if entry.kind == "tool":
            tool = entry.tool
        conn.send(self._answer(body, text, tool), keep)

    async def serve(self, ready: Callable[[], None] | None = None) -> None:
        """Serve on the current loop until `stop` is called (or the task is cancelled)."""
        self._loop = loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await loop.create_server(
            lambda: _Connection(self), HOST, self.port, backlog=1024, reuse_address=True
        )
        self.port = server.sockets[0].getsockname()[1]
        if ready:
            ready()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for conn in list(self._hangs):
                conn.send(_response(503, b"stopped"), False)
            self._hangs.clear()
            for task in list(self._tasks):
                task.cancel()
            for conn in list(self._conns):
                if conn.transport is not None:
                    conn.transport.close()
            await asyncio.sleep(0)

    # ---- thread lifecycle -------------------------------------------------------------
    def start(self) -> StubServer:
        """Serve from a daemon thread; returns once the port is bound."""
        started = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self.serve(started.set))
            except BaseException as e:  # reported to the starting thread
                errors.append(e)
                started.set()

        self._thread = threading.Thread(target=run, name="forgekit-stub-server", daemon=True)
        self._thread.start()
        started.wait(30)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        """Stop serving (hanging requests are released) and join the thread."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def spawn_stub(
    *,
    latency_ms: float = 50.0,
    reply: str | None = None,
    log_path: str | Path | None = None,
    timeout_s: float = 30.0,
) -> ManagedServer:
    """Start the stub server as a process on a free loopback port; return it once healthy
    (its `url` is the api_base). Raises `ProcessDied` / `ProcessNotReady` with its log."""
    port = free_port()
    argv = [sys.executable, "-m", "forgekit.models.stub_server", "--port", str(port),
            "--latency-ms", str(latency_ms)]  # fmt: skip
    if reply is not None:
        argv += ["--reply", reply]
    base = f"http://{HOST}:{port}/v1"
    server = ManagedServer(
        argv, health_url=f"{base}/models", url=base, log_path=log_path, name="the stub server"
    ).start()
    try:
        server.wait_healthy(timeout_s, poll_s=0.05)
    except BaseException:
        server.stop()
        raise
    return server


def main(argv: list[str] | None = None) -> int:
    """Command line: serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m forgekit.models.stub_server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--reply", default=None, help="fixed reply text (default: echo)")
    args = parser.parse_args(argv)
    server = StubServer(latency_ms=args.latency_ms, reply=args.reply, port=args.port)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        def stop() -> None:
            if server._stop is not None:
                server._stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        await server.serve(lambda: print(f"READY {server.url}", flush=True))

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
