"""Where the API server's CPU goes for one request: the WSGI application called in-process.

Starts its own in-memory DynamoDB Local and a scratch database (the database and Redis db of
``api_load.py``, so do not run both at once), onboards one tenant, then calls the WSGI
application directly (no HTTP server) for each endpoint of ``api_endpoints.ENDPOINTS``: prints the
CPU milliseconds per request of this process beside the same DynamoDB calls made with raw boto3,
and, with ``--profile``, the functions that took the most time under cProfile.

    .venv/bin/python bench/request_profile.py [--requests 2000] [--only redirect ...]
        [--profile 'get listing']
"""

import argparse
import cProfile
import dataclasses
import io
import pstats
import sys
import time
from collections.abc import Callable
from functools import partial

import support.paths  # noqa: F401 - puts the project on the import path
from api_endpoints import Fleet, Send, endpoints_named
from support.dynamodb import raw_dynamodb
from support.onboard import onboard_tenant
from support.platform_env import bench_platform


def wsgi_sender(application, port: int) -> Send:
    """Calls ``application`` as a WSGI server would, returning the status code."""

    def send(method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        status_line = []
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
            "HTTP_HOST": "127.0.0.1",
            "HTTP_USER_AGENT": "profile",
        }
        if body:
            environ["CONTENT_LENGTH"] = str(len(body))
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
        chunks = application(environ, lambda status, headers, exc_info=None: status_line.append(status))
        b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return int(status_line[0].split()[0])

    return send


def cpu_ms_per_call(call: Callable[[int], bool], count: int) -> float:
    started = time.process_time()
    for n in range(count):
        if not call(n):
            raise RuntimeError(f"call {n} failed")
    return (time.process_time() - started) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--only", nargs="*", default=None, help="endpoints to measure, e.g. redirect")
    parser.add_argument("--profile", nargs="*", default=[], help="endpoints to profile, e.g. 'get listing'")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    endpoints = endpoints_named(args.only)

    with bench_platform() as platform:
        dynamodb, api_port = platform.dynamodb, platform.api_port
        lift_premium_quota()
        from control_plane.wsgi import application

        tenant = onboard_tenant("profile", "premium", ["read", "write"])
        fleet = Fleet(
            tenants=[tenant],
            raws=[raw_dynamodb(dynamodb.endpoint, slug=tenant.slug)],
            send=wsgi_sender(application, api_port),
            orders_per_side=WARM_UP_CALLS + args.requests * 2,  # measured, then profiled
        )
        for endpoint in endpoints:
            data = endpoint.prepare(fleet)
            api_call, raw_call = (partial(call, fleet, data) for call in (endpoint.api, endpoint.raw))
            cpu_ms_per_call(api_call, WARM_UP_CALLS)
            cpu_ms_per_call(raw_call, WARM_UP_CALLS)
            api_ms = cpu_ms_per_call(api_call, args.requests)
            raw_ms = cpu_ms_per_call(raw_call, args.requests)
            print(
                f"{endpoint.name:<16} API {api_ms:.3f} ms CPU/request   raw boto3 {raw_ms:.3f} ms"
                f"   ratio {api_ms / raw_ms:.1f}x"
            )
            if endpoint.name in args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for n in range(args.requests):
                    api_call(n)
                profiler.disable()
                stats = pstats.Stats(profiler)
                print_time_by_package(stats, args.requests)
                stats.sort_stats("tottime").print_stats(args.top)


WARM_UP_CALLS = 50
"""Calls of each side before it is measured: imports, connection pools, DynamoDB Local's JIT."""


def print_time_by_package(stats: pstats.Stats, requests: int) -> None:
    """Self time per request grouped by the package a function lives in (profiler overhead included)."""
    by_package: dict[str, float] = {}
    for (filename, _, _), (_, _, self_seconds, _, _) in stats.stats.items():
        if "site-packages/" in filename:
            package = filename.split("site-packages/")[1].split("/")[0]
        elif "/platform/" in filename or "/control_plane/" in filename or "/tenants/" in filename:
            package = "project: " + filename.split("/work/")[-1].split("/", 1)[-1]
        elif filename.startswith("~") or "python3.11/" not in filename:
            package = "builtins"
        else:
            package = "stdlib: " + filename.split("python3.11/")[1].split("/")[0]
        by_package[package] = by_package.get(package, 0.0) + self_seconds
    total = sum(by_package.values())
    for package, seconds in sorted(by_package.items(), key=lambda item: -item[1])[:25]:
        print(f"  {package:<48} {seconds * 1000 / requests:6.3f} ms/request  {seconds / total:5.1%}")


def lift_premium_quota() -> None:
    """Thousands of back-to-back calls from one tenant exceed a premium tenant's burst; this
    measures CPU per request, not the quota (the limiter's Redis script still runs each time)."""
    from tenants import tiers

    premium = tiers.TIERS["premium"]
    tiers.TIERS["premium"] = dataclasses.replace(premium, requests_per_second=10**6, burst=10**6)


if __name__ == "__main__":
    main()
