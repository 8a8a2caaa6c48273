"""WSGI middleware: a request body the application left unread is read out before the answer.

A POST refused before its body is read (401, 403, 429, 413) left the rest of the body on the
kept-alive connection. granian then closed that connection after the answer without saying so
(no ``Connection: close``), and a client that had meanwhile sent its next request on it saw
"Connection aborted" (41 in 4,400 rejected 70 KB POSTs from 4 threads in 5 s). Here the rest is
read and dropped, up to ``API_MAX_BODY_BYTES``; a larger rest is not read, and the answer carries
``Connection: close`` so the client opens a new connection for its next request.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

CHUNK_BYTES = 64 * 1024


class _CountingInput:
    """``wsgi.input`` that counts what the application read."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size) if size is not None and size >= 0 else self._stream.read()
        self.consumed += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._stream.readline(size)
        self.consumed += len(data)
        return data

    def __iter__(self):
        return iter(self.readline, b"")


def _drained(stream: Any, remaining: int | None, limit: int) -> bool:
    """Reads and drops the unread body (``remaining`` bytes, or to EOF when None); False when
    more than ``limit`` bytes would have to be read."""
    if remaining is not None and remaining > limit:
        return False
    read = 0
    while remaining is None or read < remaining:
        want = CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining - read)
        chunk = stream.read(want)
        if not chunk:
            return True
        read += len(chunk)
        if read > limit:
            return False
    return True


def _no_write(data: bytes) -> None:
    raise NotImplementedError("The answer is sent once the unread body is drained: return the body.")


class UnreadBodyMiddleware:
    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        declared = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not chunked and declared in ("", "0"):
            return self.application(environ, start_response)
        counting = _CountingInput(environ["wsgi.input"])
        environ["wsgi.input"] = counting
        answer: list = []

        def deferred_start_response(status, headers, exc_info=None):
            answer[:] = [status, headers, exc_info]
            return _no_write

        body = self.application(environ, deferred_start_response)
        remaining = None if chunked or not declared.isdigit() else max(0, int(declared) - counting.consumed)
        status, headers, exc_info = answer
        if not _drained(counting, remaining, settings.API_MAX_BODY_BYTES):
            headers = [*headers, ("Connection", "close")]
        start_response(status, headers, exc_info)
        return body
