"""The outbound POST of one webhook attempt, through libcurl, to the checked address only.

- ``RESOLVE`` pins ``host:port`` to the address the target check approved, so libcurl connects
  there and never resolves the name itself, while the request keeps the URL's ``Host`` header
  and, for https, its SNI and the certificate check against the host name.
- No redirect is followed (a 3xx is a failed attempt), no proxy from the environment is used,
  and only http and https are spoken.
- ``TIMEOUT_MS`` bounds the whole exchange (connect, TLS, sending, the answer), so a receiver
  that trickles its answer holds a worker no longer than ``WEBHOOK_TIMEOUT_SECONDS``.
- The answer's body is counted, never kept (reading stops after ``MAX_RESPONSE_BYTES``): the
  tenant reads back a status code and a length, and errors are in our own words.
"""

from dataclasses import dataclass

import pycurl
from botocore.httpsession import get_cert_path
from django.conf import settings

from resale.webhooks.targets import WebhookTarget

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "resale-webhooks/2"

_CURL_ERRORS = {
    pycurl.E_COULDNT_CONNECT: "connection refused or unreachable",
    pycurl.E_OPERATION_TIMEDOUT: "timed out",
    pycurl.E_SSL_CONNECT_ERROR: "TLS handshake failed",
    pycurl.E_PEER_FAILED_VERIFICATION: "TLS certificate not valid for the host",
    pycurl.E_GOT_NOTHING: "connection closed without an answer",
    pycurl.E_SEND_ERROR: "connection lost while sending",
    pycurl.E_RECV_ERROR: "connection lost while receiving",
    pycurl.E_FTP_WEIRD_SERVER_REPLY: "answer is not HTTP",  # CURLE_WEIRD_SERVER_REPLY (8) in pycurl
}


@dataclass(frozen=True)
class SendOutcome:
    status_code: int | None
    response_bytes: int
    error: str

    @property
    def delivered(self) -> bool:
        """A 2xx answered in full: a 2xx status line followed by a timeout is not a delivery."""
        return not self.error and self.status_code is not None and 200 <= self.status_code < 300


def _resolve_entry(target: WebhookTarget) -> str:
    address = f"[{target.address}]" if ":" in target.address else target.address
    return f"{target.host}:{target.port}:{address}"


def webhook_post(
    *, target: WebhookTarget, body: bytes, headers: dict[str, str], timeout_seconds: float
) -> SendOutcome:
    received = 0

    def count(chunk: bytes) -> int | None:
        nonlocal received
        received += len(chunk)
        return None if received <= MAX_RESPONSE_BYTES else 0

    handle = pycurl.Curl()
    try:
        handle.setopt(pycurl.URL, target.url)
        handle.setopt(pycurl.RESOLVE, [_resolve_entry(target)])
        handle.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        handle.setopt(pycurl.FOLLOWLOCATION, 0)
        handle.setopt(pycurl.PROXY, "")
        handle.setopt(pycurl.NOSIGNAL, 1)
        handle.setopt(pycurl.TIMEOUT_MS, int(timeout_seconds * 1000))
        handle.setopt(pycurl.CAINFO, get_cert_path(settings.WEBHOOK_CA_BUNDLE or True))
        handle.setopt(pycurl.USERAGENT, USER_AGENT)
        handle.setopt(pycurl.POSTFIELDS, body)
        handle.setopt(
            pycurl.HTTPHEADER, [f"{name}: {value}" for name, value in headers.items()] + ["Expect:"]
        )
        handle.setopt(pycurl.WRITEFUNCTION, count)
        try:
            handle.perform()
        except pycurl.error as exc:
            code = exc.args[0]
            status = handle.getinfo(pycurl.RESPONSE_CODE) or None
            if code == pycurl.E_WRITE_ERROR and status is not None:
                return _answered(status, received)
            return SendOutcome(status, received, f"{_CURL_ERRORS.get(code, 'transport error')} (curl {code})")
        return _answered(handle.getinfo(pycurl.RESPONSE_CODE), received)
    finally:
        handle.close()


def _answered(status: int, received: int) -> SendOutcome:
    if 200 <= status < 300:
        return SendOutcome(status, received, "")
    size = f"more than {MAX_RESPONSE_BYTES}" if received > MAX_RESPONSE_BYTES else str(received)
    return SendOutcome(status, received, f"answered {status} with {size} bytes (body not kept)")
