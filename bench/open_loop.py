"""HTTP requests started at a fixed rate whatever the answers (an open loop), from libcurl.

A flood does not slow down because the server is slow: an open loop keeps sending at its rate,
so what a run shows is what that rate costs the server and its other clients. Requests go out
from libcurl's event loop in one thread, cheap next to the server's CPU per request.
"""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pycurl


@dataclass
class OpenLoopResult:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    not_sent: int = 0
    """Requests due while every connection was still waiting for an answer."""


def send_at_rate(
    url_and_headers: Callable[[int], tuple], rate: float, seconds: float, connections: int
) -> OpenLoopResult:
    """Sends ``url_and_headers(n)`` every ``1/rate`` s for ``seconds`` over at most ``connections``:
    a GET for ``(url, headers)``, a POST of the body for ``(url, headers, body)``."""
    multi = pycurl.CurlMulti()
    idle = [_handle() for _ in range(connections)]
    started_at: dict[pycurl.Curl, float] = {}
    result = OpenLoopResult()
    start = time.monotonic()
    stop = start + seconds
    due = 0
    while True:
        now = time.monotonic()
        while now < stop and start + due / rate <= now:
            if idle:
                handle = idle.pop()
                url, headers, *body = url_and_headers(due)
                handle.setopt(pycurl.URL, url)
                handle.setopt(pycurl.HTTPHEADER, headers)
                if body:
                    handle.setopt(pycurl.POSTFIELDS, body[0])
                else:
                    handle.setopt(pycurl.HTTPGET, 1)
                started_at[handle] = time.perf_counter()
                multi.add_handle(handle)
            else:
                result.not_sent += 1
            due += 1
        while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
            pass
        _collect(multi, started_at, idle, result)
        if now >= stop and not started_at:
            break
        wait = min(0.05, max(0.0, start + due / rate - time.monotonic())) if now < stop else 0.05
        if started_at:
            multi.select(wait)
        else:
            time.sleep(wait)
    multi.close()
    return result


def _collect(multi, started_at: dict, idle: list, result: OpenLoopResult) -> None:
    while True:
        queued, answered, failed = multi.info_read()
        for handle, ok in [(handle, True) for handle in answered] + [
            (handle, False) for handle, *_ in failed
        ]:
            multi.remove_handle(handle)
            result.latencies_ms.append((time.perf_counter() - started_at.pop(handle)) * 1000)
            result.statuses[handle.getinfo(pycurl.RESPONSE_CODE) if ok else "error"] += 1
            idle.append(handle)
        if not queued:
            return


def _handle() -> pycurl.Curl:
    handle = pycurl.Curl()
    handle.setopt(pycurl.NOSIGNAL, 1)
    handle.setopt(pycurl.TIMEOUT_MS, 30_000)
    handle.setopt(pycurl.PROXY, "")
    handle.setopt(pycurl.WRITEFUNCTION, len)  # the status is what a run counts; the body is dropped
    return handle
