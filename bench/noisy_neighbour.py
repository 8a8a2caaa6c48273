"""Does one tenant's flood raise another tenant's latency?

Starts its own in-memory DynamoDB Local, a scratch database and the platform under granian as
in production (``api_load``'s helpers and ports: do not run both at once), onboards a premium
tenant, the quiet one, reading its listings at a steady rate, and a standard tenant (50 requests/s
quota) whose key floods GET listing at each of the given rates. Each rate runs after a run of the
quiet tenant alone; the bench prints the quiet tenant's p50/p90/p99 alone and during the flood,
and what the flood got: requests sent per second, the share refused (429), their p50.

    .venv/bin/python bench/noisy_neighbour.py [--seconds 8] [--quiet-rate 200] [--rates 500 1000 2000 0]

Rate 0 floods as fast as 16 connections go (each sends again once answered): a flood that
saturates the server, whose refusals then take the CPU the other tenant needs. Both loads come
from libcurl event loops (``open_loop``), which cost little CPU beside the server's.
"""

import argparse
import os
import statistics
import threading
import uuid

import api_load
from open_loop import OpenLoopResult, send_at_rate

LISTINGS_PER_TENANT = 25
FLOOD_CONNECTIONS = 16
QUIET_CONNECTIONS = 8


def onboard(slug: str, tier: str) -> dict:
    from provisioning.onboarding import onboarding_run_create, run_onboarding
    from tenants.actions import do_create_tenant, do_issue_api_key

    tenant = do_create_tenant(slug=slug, name=slug, tier=tier, admin_email=f"a@{slug}.example")
    run_onboarding(onboarding_run_create(tenant).id)
    tenant.refresh_from_db()
    key = do_issue_api_key(tenant=tenant, name="bench", scopes=["read"]).key
    return {"key": key, "listings": write_listings(tenant.slug, tenant.resources["tables"]["listings"])}


def write_listings(slug: str, table: str) -> list[str]:
    raw = api_load.raw_dynamodb(slug=slug)
    ids = [uuid.uuid4().hex for _ in range(LISTINGS_PER_TENANT)]
    raw.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": api_load.listing_item(i)}} for i in ids]}
    )
    return ids


def reads_of(tenant: dict):
    base = f"http://127.0.0.1:{api_load.API_PORT}/api/v1/listings/"
    headers = [f"Authorization: Api-Key {tenant['key']}"]
    listings = tenant["listings"]
    return lambda n: (base + listings[n % len(listings)], headers)


def summary(result: OpenLoopResult) -> str:
    ordered = sorted(result.latencies_ms)
    if not ordered:
        return "no answers"
    p50, p90, p99 = (api_load.percentile(ordered, fraction) for fraction in (0.5, 0.9, 0.99))
    return f"p50 {p50:5.1f}  p90 {p90:5.1f}  p99 {p99:5.1f} ms"


def run_rate(args, quiet: dict, noisy: dict, flood_rate: float) -> None:
    quiet_reads = reads_of(quiet)
    alone = send_at_rate(quiet_reads, args.quiet_rate, args.seconds, QUIET_CONNECTIONS)
    flood: list[OpenLoopResult] = []
    rate = flood_rate or 1e6  # 0: as fast as the connections go
    flooding = threading.Thread(
        target=lambda: flood.append(send_at_rate(reads_of(noisy), rate, args.seconds, FLOOD_CONNECTIONS))
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
    args = parser.parse_args()
    os.environ.update(api_load.ENV)
    ddb_process = server = None
    try:
        ddb_process = api_load.start_dynamodb()
        api_load.prepare_database()
        import django

        django.setup()
        quiet, noisy = onboard("quiet", "premium"), onboard("noisy", "standard")
        server = api_load.start_server(api_load.server_command("granian", 2, 8), 8)
        send_at_rate(reads_of(quiet), args.quiet_rate, 2, QUIET_CONNECTIONS)  # warm-up
        print(
            f"granian 2 workers x 8 threads; quiet premium tenant reading at {args.quiet_rate:.0f}/s, "
            f"standard tenant (quota 50/s) flooding; {args.seconds:.0f} s per run"
        )
        for rate in args.rates:
            run_rate(args, quiet, noisy, rate)
    finally:
        api_load.stop(server)
        api_load.stop(ddb_process)


if __name__ == "__main__":
    main()
