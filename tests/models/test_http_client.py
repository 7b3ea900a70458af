"""The lean source's HTTP/1.1 client against a real local server that answers with
scripted raw bytes: bodies by Content-Length, chunked and to the end of the connection,
kept-alive connections reused (and closed ones not), interim answers, redirects,
compressed bodies, timeouts, and answers cut short."""

from __future__ import annotations

import asyncio
import gzip
import json

import pytest

from forgekit.models.http_client import (
    ConnectError,
    ConnectionPool,
    RemoteProtocolError,
    ServerDisconnectedError,
)


class RawServer:
    """Reads each request (head and Content-Length body) and answers with the next
    scripted bytes (`(bytes, "close")`: then closes); `None` hangs, `b""` closes
    without answering. Keeps every request."""

    def __init__(self, script: list[bytes | tuple[bytes, str] | None]) -> None:
        self.script = list(script)
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in
                           (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((lines[0], headers, body))
                answer = self.script.pop(0)
                close = isinstance(answer, tuple)
                if isinstance(answer, tuple):
                    answer = answer[0]
                if answer is None:
                    await asyncio.sleep(3600)
                if not answer:
                    writer.close()
                    return
                writer.write(answer)
                await writer.drain()
                low = answer.lower()
                if close or b"connection: close" in low or (
                        b"content-length" not in low and b"chunked" not in low):
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1/chat/completions"

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()


def ok(body: bytes, *headers: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return (f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{head}\r\n").encode() + body


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(asyncio.wait_for(coro, 20))


def test_kept_alive_answers_reuse_one_connection_and_send_the_request_whole():
    async def go() -> None:
        srv = RawServer([ok(b'{"a":1}'), ok(b'{"a":2}', "Retry-After: 3"), ok(b"")])
        async with srv as url:
            pool = ConnectionPool()
            body = json.dumps({"q": "é"}).encode()
            r1 = await pool.post(url, body, {"Content-Type": "application/json",
                                             "Authorization": "Bearer k"}, 5)
            r2 = await pool.post(url, b"{}", {}, 5)
            r3 = await pool.post(url, b"", {}, 5)
            await pool.close()
        assert (r1.status, r1.body, r2.body, r3.body) == (200, b'{"a":1}', b'{"a":2}', b"")
        assert r2.headers["retry-after"] == "3"
        assert srv.connections == 1
        line, headers, sent = srv.requests[0]
        assert line == "POST /v1/chat/completions HTTP/1.1"
        assert headers["host"] == url.split("/")[2] and headers["authorization"] == "Bearer k"
        assert headers["content-type"] == "application/json" and sent == body

    run(go())


def test_chunked_bodies_bodies_to_the_end_and_connection_close():
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\n")
    to_end = b"HTTP/1.0 200 OK\r\n\r\n{\"b\":2}"
    closing = ok(b'{"c":3}', "Connection: close")

    async def go() -> None:
        srv = RawServer([chunked, to_end, closing, ok(b'{"d":4}')])
        async with srv as url:
            pool = ConnectionPool()
            bodies = [(await pool.post(url, b"{}", {}, 5)).body for _ in range(4)]
            await pool.close()
        assert bodies == [b'{"a":1}', b'{"b":2}', b'{"c":3}', b'{"d":4}']
        # the chunked answer's connection was reused; the others were closed after
        assert srv.connections == 3

    run(go())


def test_interim_answers_redirects_and_compressed_bodies():
    body = json.dumps({"x": 1}).encode()
    zipped = gzip.compress(body)

    async def go() -> None:
        srv = RawServer([
            b"HTTP/1.1 100 Continue\r\n\r\n" + ok(body),
            b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /v2/chat\r\nContent-Length: 0\r\n\r\n",
            ok(body),
            ok(zipped, "Content-Encoding: gzip"),
        ])
        async with srv as url:
            pool = ConnectionPool()
            got = [await pool.post(url, b"{}", {}, 5) for _ in range(3)]
            await pool.close()
        assert [r.body for r in got] == [body, body, body]
        assert srv.requests[2][0] == "POST /v2/chat HTTP/1.1" and srv.requests[2][2] == b"{}"

    run(go())


def test_a_redirect_to_another_server_does_not_carry_the_keys():
    """Credentials go only to the server they were given for (the same scheme, host
    and port); a 307 elsewhere gets the request without them."""

    async def go() -> None:
        other = RawServer([ok(b'{"o":1}')])
        async with other as other_url:
            moved = f"HTTP/1.1 307 Moved\r\nLocation: {other_url}\r\nContent-Length: 0\r\n\r\n"
            same = "HTTP/1.1 307 Moved\r\nLocation: /v2\r\nContent-Length: 0\r\n\r\n"
            first = RawServer([same.encode(), moved.encode()])
            async with first as url:
                pool = ConnectionPool()
                keys = {"Authorization": "Bearer sk-secret", "X-Api-Key": "k2", "X-Trace": "t"}
                got = await pool.post(url, b"{}", keys, 5)
                await pool.close()
        assert got.body == b'{"o":1}'
        assert first.requests[1][1]["authorization"] == "Bearer sk-secret"  # same server
        _, sent, body = other.requests[0]
        assert "authorization" not in sent and "x-api-key" not in sent
        assert sent["x-trace"] == "t" and body == b"{}"

    run(go())


def test_failures_are_the_errors_the_gateway_retries():
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"half\":"

    async def go() -> None:
        srv = RawServer([b"", (cut, "close"), None, b"garbage\r\n\r\n", ok(b"{}")])
        async with srv as url:
            pool = ConnectionPool()
            with pytest.raises(ServerDisconnectedError, match="before answering"):
                await pool.post(url, b"{}", {}, 5)
            with pytest.raises(ServerDisconnectedError, match="middle of its answer"):
                await pool.post(url, b"{}", {}, 5)
            with pytest.raises(TimeoutError):
                await pool.post(url, b"{}", {}, 0.3)
            with pytest.raises(RemoteProtocolError, match="status line"):
                await pool.post(url, b"{}", {}, 5)
            assert (await pool.post(url, b"{}", {}, 5)).body == b"{}"  # a fresh connection
            with pytest.raises(ValueError, match="line break"):
                await pool.post(url, b"{}", {"X-Key": "a\r\nInjected: 1"}, 5)
            await pool.close()
        assert srv.connections == 5
        with pytest.raises(ConnectError, match="cannot connect"):
            await ConnectionPool().post(url, b"{}", {}, 5)  # the server is gone

    run(go())


def test_https_with_the_servers_certificate_and_not_without():
    """TLS through a real handshake: a self-signed certificate for 127.0.0.1 is refused
    by the default (system) trust and accepted by a context that trusts it."""
    pytest.importorskip("cryptography")
    import datetime
    import ipaddress
    import ssl
    import tempfile
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
            ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as tmp:
        cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert_file, key_file)
        client_ctx = ssl.create_default_context(cafile=str(cert_file))

        async def go() -> None:
            srv = RawServer([ok(b'{"tls":1}'), ok(b'{"tls":2}')])
            server = await asyncio.start_server(srv.handle, "127.0.0.1", 0, ssl=server_ctx)
            port = server.sockets[0].getsockname()[1]
            url = f"https://127.0.0.1:{port}/v1/chat/completions"
            try:
                with pytest.raises(ConnectError, match="cannot connect"):
                    await ConnectionPool().post(url, b"{}", {}, 5)  # not trusted
                pool = ConnectionPool(ssl_context=client_ctx)
                got = [(await pool.post(url, b"{}", {}, 5)).body for _ in range(2)]
                await pool.close()
            finally:
                server.close()
            assert got == [b'{"tls":1}', b'{"tls":2}']
            assert srv.requests[0][1]["host"] == f"127.0.0.1:{port}"

        run(go())
