"""A small OpenAI-compatible HTTP server on loopback, with fixed latency and fault injection.

Used by the gateway's tests and by benchmarks (any engineer's): it answers
`POST /v1/chat/completions` (and `/chat/completions`) and `GET /v1/models`, on 127.0.0.1
only, built on aiohttp's asyncio server so 64+ concurrent requests are cheap.

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


def _drop(request: Any) -> None:
    """Close the request's connection at once (an RST, not a clean FIN)."""
    import socket
    import struct

    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


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
        self._runner: Any = None
        self._stop: asyncio.Event | None = None
        self._hangs: set[asyncio.Future] = set()

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

    def _next(self, body: dict[str, Any]) -> Any:
        with self._lock:
            self.count += 1
            self.requests.append(body)
            entry: Any = self._script.pop(0) if self._script else None
        if callable(entry) and not isinstance(entry, Fault):
            entry = entry(body)
        return entry

    # ---- HTTP handlers ----------------------------------------------------------------
    async def _models(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response(
            {
                "object": "list",
                "data": [{"id": self.model_name, "object": "model", "owned_by": "forgekit-stub"}],
            }
        )

    async def _chat(self, request: Any) -> Any:
        from aiohttp import web

        raw = await request.read()
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return web.json_response({"error": {"message": "bad json"}}, status=400)
        with self._lock:
            self.headers.append(dict(request.headers))
        entry = self._next(body)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        text: str | None = None
        tool = None
        if isinstance(entry, Fault):
            if entry.kind == "status":
                headers = {}
                if entry.retry_after is not None:
                    headers["Retry-After"] = f"{entry.retry_after:g}"
                payload = entry.body or json.dumps(
                    {
                        "error": {
                            "message": f"stub fault {entry.code}",
                            "type": "stub_error",
                            "code": entry.code,
                        }
                    }
                )
                return web.Response(
                    status=entry.code,
                    text=payload,
                    headers=headers,
                    content_type="application/json",
                )
            if entry.kind == "malformed":
                return web.Response(
                    status=200, text='{"id": "x", "choices": [', content_type="application/json"
                )
            if entry.kind == "truncated":
                full = _completion(body, "this reply is cut off", None)
                resp = web.StreamResponse(status=200)
                resp.content_type = "application/json"
                resp.content_length = len(full)
                await resp.prepare(request)
                await resp.write(full[: len(full) // 2])
                _drop(request)
                return resp
            if entry.kind == "reset":
                _drop(request)
                return web.Response(status=500, text="dropped")
            if entry.kind == "hang":
                fut = asyncio.get_running_loop().create_future()
                self._hangs.add(fut)
                try:
                    await fut
                finally:
                    self._hangs.discard(fut)
                return web.Response(status=503, text="stopped")
            if entry.kind == "delay":
                await asyncio.sleep(entry.seconds)
                text = entry.reply
            if entry.kind == "tool":
                tool = entry.tool
        elif isinstance(entry, str):
            text = entry
        if text is None and tool is None:
            text = self.reply
            if text is None:
                last: dict[str, Any] = next(
                    (m for m in reversed(body.get("messages", [])) if m.get("role") == "user"), {}
                )
                text = f"stub: {last.get('content') or ''}"
        return web.Response(body=_completion(body, text, tool), content_type="application/json")

    def _app(self) -> Any:
        from aiohttp import web

        app = web.Application()
        for prefix in ("/v1", ""):
            app.router.add_post(f"{prefix}/chat/completions", self._chat)
            app.router.add_get(f"{prefix}/models", self._models)
        return app

    async def serve(self, ready: Callable[[], None] | None = None) -> None:
        """Serve on the current loop until `stop` is called (or the task is cancelled)."""
        from aiohttp import web

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, HOST, self.port, backlog=1024, reuse_address=True)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self._runner = runner
        if ready:
            ready()
        try:
            await self._stop.wait()
        finally:
            for fut in list(self._hangs):
                if not fut.done():
                    fut.set_result(None)
            await runner.cleanup()

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
