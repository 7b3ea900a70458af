"""The scheduler's webhook endpoint: HTTP on 127.0.0.1 only, one route per `webhook` trigger.

A POST must carry `X-Forgekit-Signature: sha256=<hex>` (or GitHub's `X-Hub-Signature-256`),
the HMAC-SHA256 of the raw body keyed with the secret in the trigger's `secret_env`
variable. Answers: 202 accepted (the job is handed to the scheduler), 401 bad or missing
signature (logged; nothing runs), 400 a body that is not a JSON object or names
parameters the notebook does not take, 404 unknown path, 413 body over 1 MB, 503 the
scheduler is stopping.

Sign a body from a shell:
    body='{"limit": 3}'
    sig=$(printf %s "$body" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //')
    curl -X POST -H "X-Forgekit-Signature: sha256=$sig" -d "$body" \\
        http://127.0.0.1:8787/hooks/nightly
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from forgekit.core.errors import ConfigError
from forgekit.pipelines.job import JobSpec
from forgekit.pipelines.triggers import WebhookTrigger, check_parameters, notebook_parameters

log = logging.getLogger("forgekit.schedule")

HOST = "127.0.0.1"  # never anything else: the endpoint runs notebooks
MAX_BODY = 1 << 20
SIGNATURE_HEADERS = ("X-Forgekit-Signature", "X-Hub-Signature-256")


def sign(secret: str | bytes, body: bytes) -> str:
    """The signature header value for `body`: `sha256=<hex>`."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(sign(secret, body), header.strip())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer looks up the host's FQDN here, which can stall offline
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]


@dataclass
class Route:
    job: JobSpec
    trigger_id: str
    spec: WebhookTrigger
    secret: bytes
    allowed: dict[str, Any]  # parameter name -> default (for type checks)


# on_post(job name, trigger id, reason, parameters, jitter_s) -> None; raises when stopping
OnPost = Callable[[str, str, str, dict[str, Any], float], None]


class WebhookServer:
    """One loopback HTTP server for every `webhook` trigger of the scheduled jobs.

    Raises:
        ConfigError: a secret variable is unset, two jobs share a path, or the port is
            taken.
    """

    def __init__(
        self,
        triggers: list[tuple[JobSpec, str, WebhookTrigger]],
        *,
        port: int,
        on_post: OnPost,
        stopping: threading.Event,
    ) -> None:
        self.routes: dict[str, Route] = {}
        self.on_post = on_post
        self.stopping = stopping
        self.rejected = 0
        for job, tid, spec in triggers:
            key = "webhook.secret_env" if len(job.webhook) == 1 else f"{tid}.secret_env"
            secret = os.environ.get(spec.secret_env, "")
            if not secret:
                raise ConfigError(
                    f"the webhook secret variable {spec.secret_env} is not set (or empty); "
                    "export it before starting the scheduler",
                    file=job.source,
                    key=key,
                )
            if spec.path in self.routes:
                other = self.routes[spec.path].job.name
                raise ConfigError(
                    f"webhook path {spec.path} is also used by job {other!r}",
                    file=job.source,
                    key=key.replace("secret_env", "path"),
                )
            allowed = {**notebook_parameters(job.notebook_path()), **job.parameters}
            self.routes[spec.path] = Route(job, tid, spec, secret.encode(), allowed)
        try:
            self.httpd = _Server((HOST, port), self._handler())
        except OSError as e:
            raise ConfigError(
                f"cannot serve webhooks on {HOST}:{port}: {e.strerror or e}; "
                "choose another port (--webhook-port or pipelines.webhook_port)",
                key="webhook_port",
            ) from e
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
            name="forgekit-webhooks",
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "forgekit-webhooks"

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("webhook %s: " + format, self.client_address[0], *args)

            def _answer(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path in server.routes:
                    self._answer(405, {"error": "use POST with a signed JSON body"})
                else:
                    self._answer(404, {"error": f"no webhook at {self.path}"})

            def do_POST(self) -> None:  # noqa: N802
                route = server.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self._answer(404, {"error": f"no webhook at {self.path}"})
                    return
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length < 0 or length > MAX_BODY:
                    self._answer(413, {"error": f"body must be 0..{MAX_BODY} bytes"})
                    return
                body = self.rfile.read(length) if length else b""
                header = next(
                    (self.headers.get(h) for h in SIGNATURE_HEADERS if self.headers.get(h)), None
                )
                if not signature_ok(route.secret, body, header):
                    server.rejected += 1
                    why = "no signature" if not header else "wrong signature"
                    log.warning(
                        "job %s: webhook %s from %s rejected (401, %s); not run",
                        route.job.name, self.path, self.client_address[0], why,
                    )
                    self._answer(401, {"error": f"{why}: sign the body with HMAC-SHA256 "
                                       f"({SIGNATURE_HEADERS[0]}: sha256=<hex>)"})
                    return
                try:
                    params = json.loads(body.decode("utf-8")) if body.strip() else {}
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    self._answer(400, {"error": f"body is not JSON: {e}"})
                    return
                if not isinstance(params, dict):
                    self._answer(400, {"error": "body must be a JSON object of parameters"})
                    return
                problems = check_parameters(params, route.allowed)
                if problems:
                    log.warning(
                        "job %s: webhook %s rejected (400): %s",
                        route.job.name, self.path, "; ".join(problems),
                    )
                    self._answer(400, {"error": "; ".join(problems), "problems": problems})
                    return
                if server.stopping.is_set():
                    self._answer(503, {"error": "the scheduler is stopping"})
                    return
                names = ", ".join(sorted(params)) or "no parameters"
                server.on_post(
                    route.job.name,
                    route.trigger_id,
                    f"POST {self.path} from {self.client_address[0]} ({names})",
                    params,
                    route.spec.jitter_s,
                )
                self._answer(202, {"accepted": True, "job": route.job.name})

        return Handler
