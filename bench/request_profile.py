"""Where the API server's CPU goes for one request: the WSGI application called in-process.

Starts its own in-memory DynamoDB Local and a scratch database (as ``api_load.py``, whose
helpers, database and Redis db it shares, so do not run both at once), onboards one tenant, then calls the
WSGI application directly (no HTTP server) for each endpoint: prints the CPU milliseconds per
request of this process beside the same DynamoDB calls made with raw boto3, and, with
``--profile``, the functions that took the most time under cProfile.

    .venv/bin/python bench/request_profile.py [--requests 2000] [--profile 'get listing']
"""

import argparse
import cProfile
import dataclasses
import io
import os
import pstats
import sys
import time
import uuid
from collections.abc import Callable

import api_load


def wsgi_caller(application, key: str) -> Callable[..., int]:
    """Calls ``application`` as gunicorn would, returning the status code."""

    def call(method: str, path: str, body: bytes = b"", **headers: str) -> int:
        status_line = []
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(api_load.API_PORT),
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
            "HTTP_AUTHORIZATION": f"Api-Key {key}",
            "HTTP_USER_AGENT": "profile",
        }
        if body:
            environ["CONTENT_TYPE"] = "application/json"
            environ["CONTENT_LENGTH"] = str(len(body))
        for name, value in headers.items():
            environ[f"HTTP_{name.upper()}"] = value
        chunks = application(environ, lambda status, headers, exc_info=None: status_line.append(status))
        b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return int(status_line[0].split()[0])

    return call


def cpu_ms_per_call(call: Callable[[int], None], count: int) -> float:
    started = time.process_time()
    for n in range(count):
        call(n)
    return (time.process_time() - started) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", nargs="*", default=[], help="endpoints to profile, e.g. 'get listing'")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    os.environ.update(api_load.ENV)
    ddb_process = None
    try:
        ddb_process = api_load.start_dynamodb()
        api_load.prepare_database()
        import django

        django.setup()
        lift_premium_quota()
        from control_plane.wsgi import application
        from provisioning.onboarding import onboarding_run_create, run_onboarding
        from tenants.actions import do_create_tenant, do_issue_api_key

        tenant = do_create_tenant(slug="profile", name="profile", tier="premium", admin_email="a@p.example")
        run_onboarding(onboarding_run_create(tenant).id)
        tenant.refresh_from_db()
        tables = tenant.resources["tables"]
        key = do_issue_api_key(tenant=tenant, name="profile", scopes=["read", "write"]).key
        http = wsgi_caller(application, key)
        raw = api_load.raw_dynamodb(slug=tenant.slug)
        listing_id = uuid.uuid4().hex
        raw.put_item(TableName=tables["listings"], Item=api_load.listing_item(listing_id))
        raw.put_item(
            TableName=tables["links"],
            Item={
                "code": {"S": "prof"},
                "target_url": {"S": "https://shop.example/x"},
                "affiliate_id": {"S": "a"},
                "listing_id": {"S": "l"},
                "created_at": {"S": "2026-01-01T00:00:00.000000Z"},
                "actor": {"S": "profile"},
            },
        )
        body = (
            b'{"seller_id":"s-1","title":"Bench jacket","description":"d","category":"clothing",'
            b'"condition":"good","price":"45.00","currency":"EUR","attributes":{"size":"M"}}'
        )
        endpoints = {
            "get listing": (
                lambda n: expect(http("GET", f"/api/v1/listings/{listing_id}"), 200),
                lambda n: raw.get_item(TableName=tables["listings"], Key={"id": {"S": listing_id}}),
            ),
            "create listing": (
                lambda n: expect(http("POST", "/api/v1/listings", body), 201),
                lambda n: raw.put_item(
                    TableName=tables["listings"],
                    Item=api_load.listing_item(uuid.uuid4().hex),
                    ConditionExpression="attribute_not_exists(id)",
                ),
            ),
            "redirect": (
                lambda n: expect(http("GET", "/r/profile/prof", referer="https://blog.example"), 302),
                lambda n: raw.put_item(
                    TableName=tables["clicks"],
                    Item={"code": {"S": "prof"}, "clicked_at": {"S": uuid.uuid4().hex}},
                ),
            ),
        }
        for name, (api_call, raw_call) in endpoints.items():
            cpu_ms_per_call(api_call, 50)
            cpu_ms_per_call(raw_call, 50)
            api_ms = cpu_ms_per_call(api_call, args.requests)
            raw_ms = cpu_ms_per_call(raw_call, args.requests)
            print(
                f"{name:<16} API {api_ms:.2f} ms CPU/request   raw boto3 {raw_ms:.2f} ms"
                f"   ratio {api_ms / raw_ms:.1f}x"
            )
            if name in args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for n in range(args.requests):
                    api_call(n)
                profiler.disable()
                stats = pstats.Stats(profiler)
                print_time_by_package(stats, args.requests)
                stats.sort_stats("tottime").print_stats(args.top)
    finally:
        api_load.stop(ddb_process)


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


def expect(status: int, wanted: int) -> None:
    if status != wanted:
        raise RuntimeError(f"status {status}, expected {wanted}")


if __name__ == "__main__":
    main()
