"""Load benchmark of the tenant API against raw boto3 doing the same DynamoDB calls.

Starts its own in-memory DynamoDB Local and the platform under granian (several workers, as
in production; ``--server gunicorn`` for comparison), onboards a few premium tenants in a
scratch PostgreSQL database, then for each endpoint of ``api_endpoints.ENDPOINTS`` (redirect,
get listing, submit order, create listing) runs a fixed concurrency for a fixed time through the
API and, in the same run, raw boto3 issuing the DynamoDB calls that endpoint makes. Prints
throughput, p50/p99 and the ratio API/raw; then (unless ``--no-memory``: it takes minutes) the
memory one process spends per bound tenant, over 1,000 tenants, beside PynamoDB's default of a
client per class.

    .venv/bin/python bench/api_load.py [--seconds 9] [--concurrency 16] [--workers 2] [--threads 8]
        [--server granian|gunicorn] [--worker-class gthread|sync] [--only 'get listing' ...]
        [--orders-per-second 60] [--no-memory]

Takes two free ports (the API server, DynamoDB Local); Redis db 3 and database bench_resale_api
unless ``BENCH_REDIS_URL`` and ``BENCH_POSTGRES_DB`` name others (so two benches can run at once).
Every loop is bounded in time; every process it starts is stopped at the end.
"""

import argparse
import os
from functools import partial

import support.paths  # noqa: F401 - puts the project on the import path
import urllib3
from api_endpoints import Endpoint, Fleet, Send, endpoints_named
from support.cpu import CpuAccount
from support.dynamodb import raw_dynamodb
from support.load import LoadResult, merge, run_load
from support.onboard import onboard_tenant
from support.platform_env import bench_platform
from support.processes import stop_process
from support.server import server_command, start_server
from tenant_memory import TenantMemory, memory_per_bound_tenant

ORDERS_PER_SECOND_CEILING = 60
"""Listings written for each side of the order run: enough for this many orders a second (both
sides make 20-40 here after the other endpoints' runs). More would only slow DynamoDB Local (every
listing shares the indexes' keys: 9 orders a second with 17,000 listings in the tables, 36-39 with
1,300). A fresh store takes 115-170 a second: ``--only 'submit order'`` needs
``--orders-per-second 400`` (150 ran out), and a side that runs out is reported."""

WARM_UP_SECONDS = 30
"""Just before an endpoint's run, each side calls it for half this long, unmeasured (orders: after
their listings are written). DynamoDB Local's JIT compiles each operation's path as it is used, for
tens of seconds: measured on the development machine, raw PutItems of listings cost it 2.8-3.5 ms
of CPU each over the first 30 s of load and 1.3-1.7 ms after, and a side measured while that lasts
pays for it."""

TENANTS = 8
"""Premium tenants served at once (``--tenants``). DynamoDB Local runs each TTL table's expiry job
on its one SQLite thread, which every request also needs: the more tenants, the more of the
machine that background work takes from both sides (two TTL tables per tenant)."""

Row = tuple[Endpoint, LoadResult, LoadResult]
"""An endpoint with its API side and its raw side."""


def http_sender(port: int, concurrency: int) -> Send:
    http = urllib3.PoolManager(maxsize=concurrency, retries=False)
    base = f"http://127.0.0.1:{port}"

    def send(method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        return http.request(method, base + path, body=body or None, headers=headers, redirect=False).status

    return send


def measure(fleet: Fleet, endpoints: list[Endpoint], args, cpu: CpuAccount) -> list[Row]:
    """Runs each endpoint in turn, warmed up just before: API and raw alternating for
    ``args.rounds`` rounds, each side first in every other round."""
    data = {
        endpoint.name: endpoint.prepare(fleet) for endpoint in endpoints if not endpoint.prepared_for_its_run
    }
    rows = []
    slice_seconds = args.seconds / args.rounds
    for endpoint in endpoints:
        if endpoint.prepared_for_its_run:
            data[endpoint.name] = endpoint.prepare(fleet)
        api_call, raw_call = (
            partial(call, fleet, data[endpoint.name]) for call in (endpoint.api, endpoint.raw)
        )
        for call in (api_call, raw_call):
            run_load("warm-up", call, WARM_UP_SECONDS / 2, args.concurrency, cpu)
        api_runs, raw_runs = [], []
        for round_number in range(args.rounds):
            # API first in even rounds, raw first in odd ones: a machine (or store) that speeds
            # up or slows down during the runs then favours neither side.
            slots = [(api_runs, api_call), (raw_runs, raw_call)]
            for runs, call in slots if round_number % 2 == 0 else reversed(slots):
                runs.append(run_load(endpoint.name, call, slice_seconds, args.concurrency, cpu))
        rows.append((endpoint, merge(api_runs), merge(raw_runs)))
        run_out = getattr(data[endpoint.name], "sides_run_out", list)()
        if run_out:
            print(
                f"\n{endpoint.name}: ran out of listings to buy ({', '.join(run_out)}); the failures "
                "counted past that are calls made without one: raise --orders-per-second"
            )
    return rows


def per_raw(api: float, raw: float) -> float:
    return api / raw if raw else float("nan")


def report(rows: list[Row], memory: TenantMemory | None, args) -> None:
    print(
        f"\nconcurrency {args.concurrency}, {args.seconds:.0f} s per run, {args.server} "
        f"({args.worker_class if args.server == 'gunicorn' else 'blocking threads'}) "
        f"{args.workers} workers x "
        f"{args.threads} threads, {args.tenants} tenants, DynamoDB Local in memory, 2-core machine"
    )
    print(
        f"{'endpoint':<16}{'API ok/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'fail':>6}   "
        f"{'raw ok/s':>10}{'p50 ms':>9}{'p99 ms':>9}   {'ratio':>6} {'target':>7}"
    )
    for endpoint, api, raw in rows:
        print(
            f"{endpoint.name:<16}{api.rps:>10.0f}{api.p50:>9.1f}{api.p99:>9.1f}{api.failed:>6}   "
            f"{raw.rps:>10.0f}{raw.p50:>9.1f}{raw.p99:>9.1f}   {per_raw(api.rps, raw.rps):>6.2f} "
            f"{endpoint.target:>7.1f}"
        )
    print("\nCPU ms per operation, by process (the machine has 2 cores; all processes share them):")
    for endpoint, api, raw in rows:
        print(f"  {endpoint.name:<16} API: {api.cpu_per_op()}   raw: {raw.cpu_per_op()}")
    print(
        "\nCPU per operation as a ratio to the raw side (a machine's speed cancels out): the server's"
        " against the raw client's, the store's against the store's under the raw calls"
    )
    print(f"{'endpoint':<16}{'ok/s':>8}{'server CPU':>12}{'store CPU':>11}")
    for endpoint, api, raw in rows:
        print(
            f"{endpoint.name:<16}{per_raw(api.rps, raw.rps):>8.2f}"
            f"{per_raw(api.cpu_ms('server'), raw.cpu_ms('client')):>11.2f}x"
            f"{per_raw(api.cpu_ms('dynamodb'), raw.cpu_ms('dynamodb')):>10.2f}x"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other sessions' processes count too)")
    if memory is None:
        print("\nmemory per bound tenant: not measured (--no-memory)")
        return
    print(
        f"\nmemory per bound tenant (6 tables, shared connection, {memory.tenants} tenants): "
        f"{memory.shared_bytes / 1024:.1f} KiB (target < 100 KiB)"
    )
    print(f"memory per tenant with PynamoDB's default client per class: {memory.naive_bytes / 2**20:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=9)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--tenants", type=int, default=TENANTS)
    parser.add_argument(
        "--orders-per-second",
        type=int,
        default=ORDERS_PER_SECOND_CEILING,
        help="listings written for each side of the order run, per second of it",
    )
    parser.add_argument("--server", default="granian", choices=["granian", "gunicorn"])
    parser.add_argument("--worker-class", default="gthread", help="gunicorn's: gthread or sync")
    parser.add_argument(
        "--only", nargs="*", default=None, help="endpoints to run, e.g. redirect 'submit order'"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="API and raw alternate this many times; even: each first as often",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory per bound tenant")
    args = parser.parse_args()
    endpoints = endpoints_named(args.only)

    with bench_platform() as platform:
        dynamodb, api_port = platform.dynamodb, platform.api_port
        cpu = CpuAccount()
        cpu.add("dynamodb", dynamodb.process.pid)
        server = None
        try:
            from botocore.config import Config

            tenants = [
                onboard_tenant(f"bench-{i}", "premium", ["read", "write"]) for i in range(args.tenants)
            ]
            raw_config = Config(
                max_pool_connections=args.concurrency, retries={"max_attempts": 3, "mode": "standard"}
            )
            order_seconds = args.seconds + WARM_UP_SECONDS / 2  # a side: its runs and its warm-up
            fleet = Fleet(
                tenants=tenants,
                raws=[raw_dynamodb(dynamodb.endpoint, raw_config, slug=tenant.slug) for tenant in tenants],
                send=http_sender(api_port, args.concurrency),
                orders_per_side=int(order_seconds * args.orders_per_second / args.tenants) + 50,
            )
            command = server_command(api_port, args.server, args.workers, args.threads, args.worker_class)
            server = start_server(
                command, api_port, {**os.environ, "DYNAMODB_MAX_POOL_CONNECTIONS": str(args.threads)}
            )
            cpu.add("server", server.pid)
            rows = measure(fleet, endpoints, args, cpu)
            stop_process(server)
            memory = None if args.no_memory else memory_per_bound_tenant(dynamodb.endpoint)
            report(rows, memory, args)
        finally:
            stop_process(server)


if __name__ == "__main__":
    main()
