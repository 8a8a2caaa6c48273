"""Does one tenant's flood raise another tenant's latency?

Starts its own in-memory DynamoDB Local, a scratch database and the platform under granian as
in production (the database and Redis db of ``api_load``: do not run both at once), onboards a premium
tenant, the quiet one, reading its listings at a steady rate, and a standard tenant (50 requests/s
quota) whose key floods GET listing at each of the given rates. Each rate runs after a run of the
quiet tenant alone; the bench prints the quiet tenant's p50/p90/p99 alone and during the flood,
and what the flood got: requests sent per second, the share refused (429), their p50.

    .venv/bin/python bench/noisy_neighbour.py [--seconds 8] [--quiet-rate 200] [--rates 500 1000 2000 0]

``--attack`` chooses what the other tenant sends: ``reads`` (GET listing), ``unbounded`` (a
listing filter that matches nothing, so each request spends the read budget: once one DynamoDB
query per listing of the seller) or ``regex`` (creates whose attribute meets the premium schema's
``^(a+)+$`` with 5,000 ``a`` and a ``!``: seconds of Python's backtracking ``re`` per request, were
it not run by RE2). The attacker is premium for ``regex`` (only premium tenants have a schema).

Rate 0 floods as fast as 16 connections go (each sends again once answered): a flood that
saturates the server, whose refusals then take the CPU the other tenant needs. Both loads come
from libcurl event loops (``open_loop``), which cost little CPU beside the server's.
"""

import argparse
import json
import os
import statistics
import threading

import support.paths  # noqa: F401 - puts the project on the import path
from open_loop import OpenLoopResult, send_at_rate
from support.dynamodb import raw_dynamodb
from support.items import write_listings
from support.load import percentile
from support.onboard import onboard_tenant
from support.platform_env import bench_platform
from support.processes import stop_process
from support.server import server_command, start_server

LISTINGS_PER_TENANT = 25
FLOOD_CONNECTIONS = 16
QUIET_CONNECTIONS = 8


def reader(slug: str, tier: str, dynamodb_endpoint: str, attribute_schema: dict | None = None) -> dict:
    """An onboarded tenant with a read-and-write key and listings to read."""
    tenant = onboard_tenant(slug, tier, ["read", "write"])
    if attribute_schema is not None:
        from tenants.models import Tenant

        Tenant.objects.filter(slug=slug).update(attribute_schema=attribute_schema)
    raw = raw_dynamodb(dynamodb_endpoint, slug=slug)
    return {
        "key": tenant.key,
        "listings": write_listings(raw, tenant.tables["listings"], LISTINGS_PER_TENANT),
    }


CATASTROPHIC_PATTERN = "^(a+)+$"


def attacks_of(tenant: dict, port: int, attack: str):
    """The requests of ``attack`` from ``tenant``, as ``send_at_rate`` takes them."""
    if attack == "reads":
        return reads_of(tenant, port)
    headers = [f"Authorization: Api-Key {tenant['key']}", "Content-Type: application/json"]
    if attack == "unbounded":
        url = f"http://127.0.0.1:{port}/api/v1/listings?seller_id=s-1&category=nomatch&limit=1"
        return lambda n: (url, headers)
    body = json.dumps(
        {
            "seller_id": "s-1",
            "title": "t",
            "category": "c",
            "condition": "good",
            "price": "1.00",
            "currency": "EUR",
            "attributes": {"code": "a" * 5000 + "!"},
        }
    ).encode()
    return lambda n: (f"http://127.0.0.1:{port}/api/v1/listings", headers, body)


def reads_of(tenant: dict, port: int):
    base = f"http://127.0.0.1:{port}/api/v1/listings/"
    headers = [f"Authorization: Api-Key {tenant['key']}"]
    listings = tenant["listings"]
    return lambda n: (base + listings[n % len(listings)], headers)


def summary(result: OpenLoopResult) -> str:
    ordered = sorted(result.latencies_ms)
    if not ordered:
        return "no answers"
    p50, p90, p99 = (percentile(ordered, fraction) for fraction in (0.5, 0.9, 0.99))
    return f"p50 {p50:5.1f}  p90 {p90:5.1f}  p99 {p99:5.1f} ms"


def run_rate(args, port: int, quiet: dict, noisy: dict, flood_rate: float) -> None:
    quiet_reads = reads_of(quiet, port)
    alone = send_at_rate(quiet_reads, args.quiet_rate, args.seconds, QUIET_CONNECTIONS)
    flood: list[OpenLoopResult] = []
    rate = flood_rate or 1e6  # 0: as fast as the connections go
    flooding = threading.Thread(
        target=lambda: flood.append(
            send_at_rate(attacks_of(noisy, port, args.attack), rate, args.seconds, FLOOD_CONNECTIONS)
        )
    )
    flooding.start()
    during = send_at_rate(quiet_reads, args.quiet_rate, args.seconds, QUIET_CONNECTIONS)
    flooding.join()
    answered = flood[0].statuses
    sent = sum(answered.values())
    label = f"{flood_rate:.0f}/s" if flood_rate else "max"
    refused = answered.get(429, 0) / max(1, sent)
    print(
        f"flood {label:>7}: sent {sent / args.seconds:6.0f}/s, {refused:4.0%} refused, p50 "
        f"{statistics.median(flood[0].latencies_ms):5.1f} ms   quiet alone: {summary(alone)}   "
        f"during: {summary(during)}"
    )
    unexpected = {status: n for status, n in (alone.statuses + during.statuses).items() if status != 200}
    not_sent = alone.not_sent + during.not_sent
    if unexpected or not_sent:
        print(f"  quiet tenant: answers other than 200 {unexpected}, not sent {not_sent}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--quiet-rate", type=float, default=200)
    parser.add_argument("--rates", type=float, nargs="*", default=[500, 1000, 2000, 0])
    parser.add_argument("--attack", choices=["reads", "unbounded", "regex"], default="reads")
    parser.add_argument("--threads", type=int, default=8, help="granian's blocking threads per worker")
    args = parser.parse_args()
    with bench_platform() as platform:
        dynamodb, port = platform.dynamodb, platform.api_port
        server = None
        try:
            quiet = reader("quiet", "premium", dynamodb.endpoint)
            schema = {
                "type": "object",
                "properties": {"code": {"type": "string", "pattern": CATASTROPHIC_PATTERN}},
            }
            noisy = reader(
                "noisy",
                "premium" if args.attack == "regex" else "standard",
                dynamodb.endpoint,
                attribute_schema=schema if args.attack == "regex" else None,
            )
            server = start_server(
                server_command(port, threads=args.threads),
                port,
                {**os.environ, "DYNAMODB_MAX_POOL_CONNECTIONS": "8"},
            )
            send_at_rate(reads_of(quiet, port), args.quiet_rate, 2, QUIET_CONNECTIONS)  # warm-up
            print(
                f"granian 2 workers x {args.threads} threads; "
                f"quiet premium tenant reading at {args.quiet_rate:.0f}/s, "
                f"the other tenant ({'premium' if args.attack == 'regex' else 'standard'}) sending "
                f"'{args.attack}'; {args.seconds:.0f} s per run"
            )
            for rate in args.rates:
                run_rate(args, port, quiet, noisy, rate)
        finally:
            stop_process(server)


if __name__ == "__main__":
    main()
