"""A local HTTP receiver for webhook tests: records each request, fails the first N with 500,
then answers ``status`` (200).

With ``secret`` set it is a Standard Webhooks receiver: it verifies each request with the
``standardwebhooks`` library and answers 400 to one that does not verify. ``answer_body``,
``answer_headers`` and ``delay_seconds`` shape its answer (bodies a tenant must never read back,
redirects, slow receivers); ``tls`` serves https with that server context.
"""

import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    fail_first: int = 0
    status: int = 200
    host: str = "127.0.0.1"
    port: int = 0
    secret: str | None = None
    answer_body: bytes = b""
    answer_headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0
    tls: ssl.SSLContext | None = None
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def _status(self, headers: dict[str, str], body: bytes) -> int:
        if len(self.requests) < self.fail_first:
            return 500
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError:
                return 400
        return self.status

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver._status(headers, body)
                receiver.requests.append(Received(headers, body, status))
                time.sleep(receiver.delay_seconds)
                self.send_response(status)
                for name, value in receiver.answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.answer_body)))
                self.end_headers()
                self.wfile.write(receiver.answer_body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def accepted(self) -> list[Received]:
        return [request for request in self.requests if request.answered == 200]
