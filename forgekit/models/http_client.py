"""A small HTTP/1.1 client for the lean source: JSON POSTs over kept-alive connections.

aiohttp spends ~0.3 ms of CPU a request on a 2-core machine (request and response
objects, header multidicts, its payload registry, tracing hooks, the cookie jar); a chat
completion to a local server needs none of it. This client writes one request (request
line, a few headers, the body, in one write) and reads one response (status, headers,
and a body by Content-Length, chunked, or up to the end of the connection): ~0.1 ms
(`benchmarks/runner`). Connections are kept per host and port and reused; one the
server closed (or one whose answer was not read to its end) is never reused.

Its errors are the ones `forgekit.models.retry` classifies as transient: `ConnectError`
(a `ConnectionError`) for a connect that fails, `ServerDisconnectedError` (a `ConnectionError`) for a connection
dropped before its answer was complete, `RemoteProtocolError` (also one) for an answer
that is not HTTP, and `TimeoutError` for a request over its time.

Example:
    >>> pool = ConnectionPool()                                              # doctest: +SKIP
    >>> r = await pool.post("http://127.0.0.1:8080/v1/chat/completions", body,
    ...                     {"Content-Type": "application/json"}, timeout=60)  # doctest: +SKIP
    >>> r.status, r.headers["content-type"], r.body                          # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

MAX_HEAD = 64 * 1024  # a response head longer than this is not HTTP
MAX_REDIRECTS = 5  # 307 and 308 keep the method and body: followed (others are errors)
_ssl_context: Any = None


class ServerDisconnectedError(ConnectionError):
    """The server closed the connection before its answer was complete."""


class ConnectError(ConnectionError):
    """No connection could be made (refused, unreachable, a name that does not resolve,
    a TLS handshake that failed); the OS's error is its cause."""


class RemoteProtocolError(ConnectionError):
    """The server's answer is not HTTP/1.x (a bad status line, head or chunk)."""


@dataclass(slots=True)
class Response:
    """One answer: status, headers (names in lower case; the last of repeated ones)
    and the whole body (decoded if the server compressed it)."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class _Target:
    """A URL taken apart once: where to connect and what to write."""

    key: tuple[str, str, int]  # scheme, host, port: the connections that serve it
    host: str
    port: int
    ssl: bool
    path: str
    prefix: bytes  # the request line and Host header


def _target(url: str) -> _Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    tls = scheme == "https"
    port = parts.port or (443 if tls else 80)
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == (443 if tls else 80) else f"{shown}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    prefix = f"POST {path} HTTP/1.1\r\nHost: {host_header}\r\n".encode()
    return _Target((scheme, host, port), host, port, tls, path, prefix)


def _decoded(body: bytes, encoding: str) -> bytes:
    """The body of a compressed answer (we ask for none; some servers compress anyway)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except zlib.error as e:
        raise RemoteProtocolError(f"a {encoding} body that does not decode: {e}") from None
    raise RemoteProtocolError(f"a body in an encoding this client cannot read: {encoding!r}")


class _Connection(asyncio.Protocol):
    """One connection: writes a request, parses its answer into `waiter`."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[Response] | None = None
        self.closed = False
        self.reusable = True
        self._head: tuple[int, dict[str, str], bool] | None = None
        self._length: int | None = None  # bytes of body to come (None: chunked or to EOF)
        self._chunked = False
        self._chunks = bytearray()
        self._trailer = False

    # -- asyncio.Protocol -----------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.waiter is None:  # nothing asked: a server talking out of turn
            self.reusable = False
            self.close()
            return
        try:
            self._parse()
        except RemoteProtocolError as e:
            self._fail(e)

    def eof_received(self) -> bool:
        return False  # the transport closes; connection_lost ends the answer

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        w = self.waiter
        if w is None or w.done():
            return
        if self._head is not None and self._length is None and not self._chunked:
            self._finish(bytes(self.buf))  # a body that runs to the end of the connection
            return
        what = "before answering" if self._head is None else "in the middle of its answer"
        err = ServerDisconnectedError(f"the server closed the connection {what}")
        if exc is not None:
            err.__cause__ = exc
        w.set_exception(err)

    # -- one exchange -----------------------------------------------------------------------
    def send(self, data: bytes, waiter: asyncio.Future[Response]) -> None:
        self.waiter = waiter
        self.transport.write(data)

    def expire(self, timeout: float | None) -> None:
        """The request ran over its time: fail it and drop the connection."""
        w = self.waiter
        if w is not None and not w.done():
            w.set_exception(TimeoutError(f"no complete answer within {timeout or 0:g} s"))
        self.reusable = False
        self.close()

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.close()

    def _fail(self, err: Exception) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_exception(err)
        self.close()

    def _finish(self, body: bytes) -> None:
        assert self._head is not None
        status, headers, keep = self._head
        self._head, self._length, self._chunked, self._trailer = None, None, False, False
        self._chunks = bytearray()
        if not keep or self.buf:  # asked to close, or bytes beyond the answer
            self.reusable = False
        if "content-encoding" in headers:
            try:
                body = _decoded(body, headers["content-encoding"])
            except RemoteProtocolError as e:
                self._fail(e)
                return
        w, self.waiter = self.waiter, None
        if w is not None and not w.done():
            w.set_result(Response(status, headers, body))

    def _parse(self) -> None:
        buf = self.buf
        while self._head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise RemoteProtocolError("a response head longer than 64 KiB")
                return
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            del buf[: end + 4]
            version, _, rest = lines[0].partition(" ")
            code = rest[:3]
            if not version.startswith("HTTP/1.") or not code.isdigit():
                raise RemoteProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
            status = int(code)
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
                continue
            conn = headers.get("connection", "").lower()
            keep = "close" not in conn and (version == "HTTP/1.1" or "keep-alive" in conn)
            if status in (204, 304):
                self._length = 0
            elif "chunked" in headers.get("transfer-encoding", "").lower():
                self._chunked = True
            elif "content-length" in headers:
                try:
                    self._length = int(headers["content-length"])
                except ValueError:
                    raise RemoteProtocolError(
                        f"a bad Content-Length: {headers['content-length'][:40]!r}"
                    ) from None
            else:  # the body runs to the end of the connection
                keep = False
            self._head = (status, headers, keep)
        if self._length is not None:
            if len(buf) >= self._length:
                body = bytes(buf[: self._length])
                del buf[: self._length]
                self._finish(body)
        elif self._chunked:
            self._parse_chunks()

    def _parse_chunks(self) -> None:
        buf = self.buf
        while True:
            eol = buf.find(b"\r\n")
            if eol < 0:
                return
            if self._trailer:  # after the last chunk: trailer lines up to an empty one
                del buf[: eol + 2]
                if eol == 0:
                    self._finish(bytes(self._chunks))
                    return
                continue
            try:
                size = int(bytes(buf[:eol]).split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise RemoteProtocolError(f"a bad chunk size: {bytes(buf[:eol][:40])!r}") from None
            if size == 0:
                del buf[: eol + 2]
                self._trailer = True
                continue
            if len(buf) < eol + 2 + size + 2:
                return
            self._chunks += buf[eol + 2 : eol + 2 + size]
            del buf[: eol + 2 + size + 2]


# request headers that carry credentials: not sent on to a redirect's other host, port or
# scheme (as browsers, requests and aiohttp drop Authorization there)
CREDENTIALS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie"}
)


def _tail(headers: dict[str, str], body: bytes) -> bytes:
    """The request after its request line and Host: the headers, then `body`."""
    lines = []
    for k, v in headers.items():
        if "\n" in v or "\r" in v or "\n" in k or "\r" in k:
            raise ValueError(f"the header {k!r} holds a line break")
        lines.append(f"{k}: {v}\r\n")
    extra = "".join(lines)
    tail = f"Accept-Encoding: identity\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return tail.encode() + body


class ConnectionPool:
    """Kept-alive connections of one event loop, per scheme, host and port.

    Args:
        limit: the most connections open at once (more requests wait for one).
        ssl_context: how https servers are verified (default: the system's trusted
            certificates, `ssl.create_default_context()`).
    """

    def __init__(self, limit: int = 1024, ssl_context: Any = None) -> None:
        self.limit = limit
        self.ssl_context = ssl_context
        self.closed = False
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._slots: asyncio.Semaphore | None = None
        self._targets: dict[str, _Target] = {}

    def _target(self, url: str) -> _Target:
        t = self._targets.get(url)
        if t is None:
            if len(self._targets) > 256:
                self._targets.clear()
            t = self._targets[url] = _target(url)
        return t

    async def _connect(self, t: _Target, timeout: float | None) -> _Connection:
        global _ssl_context
        loop = asyncio.get_running_loop()
        ssl: Any = None
        if t.ssl and self.ssl_context is not None:
            ssl = self.ssl_context
        elif t.ssl:
            if _ssl_context is None:
                import ssl as ssl_module

                _ssl_context = ssl_module.create_default_context()
            ssl = _ssl_context
        connect = loop.create_connection(
            _Connection, t.host, t.port, ssl=ssl, server_hostname=t.host if ssl else None
        )
        try:
            _, conn = await (asyncio.wait_for(connect, timeout) if timeout else connect)
        except TimeoutError:
            raise TimeoutError(f"no connection to {t.host}:{t.port} within {timeout:g} s") from None
        except OSError as e:
            raise ConnectError(f"cannot connect to {t.host}:{t.port}: {e}") from e
        self._open.add(conn)
        return conn

    def _reuse(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if conn.reusable and not conn.closed and not conn.transport.is_closing():
                return conn
            self._open.discard(conn)
        return None

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float | None = None
    ) -> Response:
        """POST `body` to `url` with `headers` (Host and Content-Length are added) and
        return the answer; `timeout`: seconds for all of it, connect included. A 307 or
        308 redirect is followed (with the same body; credentials only to the same server)."""
        if self.closed:
            raise RuntimeError("this connection pool is closed")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        tail_bytes = _tail(headers, body)
        origin, stripped = self._target(url).key, False
        for _ in range(MAX_REDIRECTS + 1):
            t = self._target(url)
            if t.key != origin and not stripped:  # never send the keys on to another server
                stripped = True
                kept = {k: v for k, v in headers.items() if k.lower() not in CREDENTIALS}
                tail_bytes = _tail(kept, body)
            response = await self._exchange(t, t.prefix + tail_bytes, deadline, timeout)
            if response.status in (307, 308) and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            return response
        raise RemoteProtocolError(f"more than {MAX_REDIRECTS} redirects, the last to {url}")

    async def _exchange(
        self, t: _Target, data: bytes, deadline: float | None, timeout: float | None
    ) -> Response:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        loop = asyncio.get_running_loop()
        async with self._slots:
            conn = self._reuse(t.key)
            if conn is None:
                left = None if deadline is None else max(0.0, deadline - loop.time())
                conn = await self._connect(t, left)
            waiter: asyncio.Future[Response] = loop.create_future()
            timer = None
            if deadline is not None:
                timer = loop.call_at(deadline, conn.expire, timeout)
            try:
                conn.send(data, waiter)
                response = await waiter
            except BaseException:  # a failure or a cancel: the connection's state is unknown
                conn.close()
                self._open.discard(conn)
                raise
            finally:
                if timer is not None:
                    timer.cancel()
            if conn.reusable and not self.closed:
                self._idle.setdefault(t.key, []).append(conn)
            else:
                conn.close()
                self._open.discard(conn)
            return response

    async def close(self) -> None:
        """Close every connection (idle or not); the pool takes no more requests."""
        self.closed = True
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports run their close callbacks


__all__ = [
    "ConnectError",
    "ConnectionPool",
    "RemoteProtocolError",
    "Response",
    "ServerDisconnectedError",
]
