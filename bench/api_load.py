"""Load benchmark of the tenant API against raw boto3 doing the same DynamoDB calls.

Starts its own in-memory DynamoDB Local and the platform under granian (several workers, as
in production; ``--server gunicorn`` for comparison), onboards a few premium tenants in a
scratch PostgreSQL database, then for each endpoint (get listing, create listing, submit
order, redirect) runs a fixed concurrency for a fixed time through the API and, in the same
run, raw boto3 issuing the DynamoDB calls that endpoint makes. Prints throughput, p50/p99 and
the ratio API/raw; then the memory one process spends per bound tenant, over 1,000 tenants,
beside PynamoDB's default of a client per class.

    .venv/bin/python bench/api_load.py [--seconds 9] [--concurrency 16] [--workers 2] [--threads 8]
        [--server granian|gunicorn] [--worker-class gthread|sync] [--only 'get listing' ...]

Takes two free ports (the API server, DynamoDB Local); Redis db 3 and database bench_resale_api
unless ``BENCH_REDIS_URL`` and ``BENCH_POSTGRES_DB`` name others (so two benches can run at once).
Every loop is bounded in time; every process it starts is stopped at the end.
"""

import argparse
import gc
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path

import urllib3

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

from tests.dynamodb_local import free_port  # noqa: E402 - needs ROOT on the path

API_PORT = free_port()
DDB_PORT = free_port()
DB_NAME = os.environ.get("BENCH_POSTGRES_DB", "bench_resale_api")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
TENANTS = 8
"""Premium tenants served at once (``--tenants``). DynamoDB Local runs each TTL table's expiry job
on its one SQLite thread, which every request also needs: the more tenants, the more of the
machine that background work takes from both sides (two TTL tables per tenant)."""

ENV = {
    "DJANGO_SETTINGS_MODULE": "control_plane.settings",
    "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{DDB_PORT}",
    "POSTGRES_DB": DB_NAME,
    "REDIS_URL": REDIS_URL,
    "LOG_LEVEL": "WARNING",
    "PUBLIC_BASE_URL": f"http://127.0.0.1:{API_PORT}",
}


BENCH_TIME = "2026-01-01T00:00:00.000000Z"
ORDERS_PER_SECOND_CEILING = 150
"""Listings written for each side of the order run: enough for this many orders a second. More
would only slow DynamoDB Local (every listing shares the indexes' keys); a side that runs out
shows its extra attempts as failures."""


WARM_UP_SECONDS = 3
"""Before any run, each side calls every endpoint for half this long, unmeasured (orders: just
before their own run, when their listings are written). DynamoDB Local's JIT compiles each
operation's path on first use (a cold PutItem into a table with three indexes costs it 2-3 ms of
CPU instead of 0.6), and that must not fall on whichever side runs first. And a table first
written after thousands of listings were (the clicks, when the redirect ran last) stays slow
for DynamoDB Local, 7 ms of its CPU per click on both sides instead of 0.9, so every table
gets its first items up front."""


def listing_item(listing_id: str, seller: str = "s-1") -> dict:
    """An active listing as DynamoDB stores it, written straight to the table."""
    return {
        "id": {"S": listing_id},
        "seller_id": {"S": seller},
        "title": {"S": "Bench jacket"},
        "description": {"S": "d"},
        "category": {"S": "clothing"},
        "condition": {"S": "good"},
        "price": {"S": "45.00"},
        "currency": {"S": "EUR"},
        "attributes": {"M": {"size": {"S": "M"}}},
        "image_keys": {"L": []},
        "status": {"S": "active"},
        "version": {"N": "1"},
        "created_at": {"S": BENCH_TIME},
        "updated_at": {"S": BENCH_TIME},
        "actor": {"S": "bench"},
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


CPU_PIDS: dict[str, list[int]] = {}
"""Processes whose CPU time each run accounts for: the API server, DynamoDB Local, this client."""


def _process_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


def cpu_snapshot() -> dict[str, float]:
    snapshot = {"client": _process_cpu_seconds(os.getpid())}
    for name, pids in CPU_PIDS.items():
        snapshot[name] = sum(_process_cpu_seconds(pid) for pid in pids)
    return snapshot


def run_load(name: str, call: Callable[[int], bool], seconds: float, concurrency: int) -> dict:
    """Runs ``call`` from ``concurrency`` threads for ``seconds``; returns ok/s, latencies (ms) and
    the CPU seconds each process spent."""
    cpu_before = cpu_snapshot()
    stop = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    failures = [0] * concurrency

    def worker(index: int) -> None:
        n = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                ok = call(index * 1_000_000 + n)
            except (OSError, urllib3.exceptions.HTTPError):
                ok = False  # a reset or refused connection is a failed request, not a dead thread
            n += 1
            if ok:
                latencies[index].append((time.perf_counter() - started) * 1000)
            else:
                failures[index] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu_after = cpu_snapshot()
    flat = [value for chunk in latencies for value in chunk]
    return {
        "ops": len(flat),
        "cpu": {key: cpu_after[key] - cpu_before[key] for key in cpu_after},
        "name": name,
        "rps": len(flat) / elapsed,
        "p50": statistics.median(flat) if flat else float("nan"),
        "p99": percentile(flat, 0.99),
        "failed": sum(failures),
    }


def merge(runs: list[dict]) -> dict:
    """Runs of equal length alternated with the other side, so neither gains from warming up."""
    return {
        "name": runs[0]["name"],
        "rps": statistics.mean(run["rps"] for run in runs),
        "p50": statistics.mean(run["p50"] for run in runs),
        "p99": max(run["p99"] for run in runs),
        "failed": sum(run["failed"] for run in runs),
        "ops": sum(run["ops"] for run in runs),
        "cpu": {key: sum(run["cpu"][key] for run in runs) for key in runs[0]["cpu"]},
    }


def cpu_per_op(result: dict) -> str:
    """Milliseconds of CPU per successful operation, by process."""
    ops = max(1, result["ops"])
    return " ".join(f"{key} {seconds * 1000 / ops:.2f}" for key, seconds in sorted(result["cpu"].items()))


def cpu_ms(result: dict, process: str) -> float:
    """Milliseconds of one process's CPU per successful operation."""
    return result["cpu"].get(process, 0.0) * 1000 / max(1, result["ops"])


def per_raw(api: float, raw: float) -> float:
    return api / raw if raw else float("nan")


def raw_dynamodb(config=None, slug: str | None = None):
    """A boto3 client of the bench's DynamoDB Local; with ``slug``, in that tenant's namespace (its
    own access key id, as ``resale.binding`` signs the tenant's calls)."""
    import boto3
    from resale.binding import local_access_key_id

    return boto3.client(
        "dynamodb",
        endpoint_url=ENV["DYNAMODB_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id=local_access_key_id(slug) if slug else "local",
        aws_secret_access_key="local",
        config=config,
    )


def start_dynamodb() -> subprocess.Popen:
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "dynamodb-local.sh"), "--in-memory"],
        env={**os.environ, "DYNAMODB_LOCAL_PORT": str(DDB_PORT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    client = raw_dynamodb()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            client.list_tables(Limit=1)
            return process
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    raise RuntimeError("DynamoDB Local did not start")


def prepare_database() -> None:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "migrate", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        check=True,
    )


def server_command(server: str, workers: int, threads: int, worker_class: str = "gthread") -> list[str]:
    """The API server: ``workers`` processes of ``threads`` threads, under granian or gunicorn."""
    if server == "granian":
        return [
            str(ROOT / ".venv" / "bin" / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(API_PORT),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--log-level",
            "warning",
            "control_plane.wsgi:application",
        ]
    return [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "control_plane.wsgi:application",
        "--bind",
        f"127.0.0.1:{API_PORT}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        worker_class,
        "--log-level",
        "warning",
    ]


def start_server(command: list[str], threads: int) -> subprocess.Popen:
    env = {**os.environ, **ENV, "DYNAMODB_MAX_POOL_CONNECTIONS": str(threads)}
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            health = urllib3.request("GET", f"http://127.0.0.1:{API_PORT}/healthz", timeout=1, retries=False)
            if health.status == 200:
                return process
        except urllib3.exceptions.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{command[0]} did not start")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def _mem_tables(slug: str) -> tuple[tuple[str, str], ...]:
    from resale.tables import TENANT_TABLE_MODELS

    return tuple((role, f"{slug}-{role}") for role in TENANT_TABLE_MODELS)


def memory_per_bound_tenant(count: int = 1000) -> dict:
    """Bytes one process holds per bound tenant (6 tables, its own credentials) vs PynamoDB's default."""
    from pynamodb.models import Model
    from resale.binding import TenantRef, tenant_models
    from resale.tables import TENANT_TABLE_MODELS

    tenant_models(TenantRef(slug="mem-warm", table_names=_mem_tables("mem-warm")))  # shared pool, signer code
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(count):
        models = tenant_models(TenantRef(slug=f"mem-{i}", table_names=_mem_tables(f"mem-{i}")))
        for role in TENANT_TABLE_MODELS:
            getattr(models, role)._get_connection()
    gc.collect()
    after = tracemalloc.take_snapshot()
    shared = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / count

    naive_count = 5
    before = tracemalloc.take_snapshot()
    for i in range(naive_count):
        for role, model in TENANT_TABLE_MODELS.items():
            meta = type(
                "Meta",
                (model.Meta,),
                {
                    "table_name": f"naive-{i}-{role}",
                    "host": ENV["DYNAMODB_ENDPOINT"],
                    "region": "us-east-1",
                    "aws_access_key_id": "local",
                    "aws_secret_access_key": "local",
                },
            )
            naive = type(f"Naive{i}{role}", (model,), {"Meta": meta, "__module__": __name__})
            naive._get_connection().connection.client  # noqa: B018 - what a first call builds
    gc.collect()
    after = tracemalloc.take_snapshot()
    naive = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / naive_count
    tracemalloc.stop()
    del Model
    return {"shared_bytes": shared, "naive_bytes": naive, "tenants": count}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=9)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--tenants", type=int, default=TENANTS)
    parser.add_argument("--server", default="granian", choices=["granian", "gunicorn"])
    parser.add_argument("--worker-class", default="gthread", help="gunicorn's: gthread or sync")
    parser.add_argument(
        "--only", nargs="*", default=None, help="endpoints to run, e.g. redirect 'submit order'"
    )
    parser.add_argument("--rounds", type=int, default=3, help="API and raw alternate this many times")
    args = parser.parse_args()
    globals()["TENANTS"] = args.tenants
    os.environ.update(ENV)

    ddb_process = server = None
    try:
        ddb_process = start_dynamodb()
        CPU_PIDS["dynamodb"] = [ddb_process.pid]
        prepare_database()
        import django

        django.setup()
        results = benchmark(
            args,
            lambda: start_server(
                server_command(args.server, args.workers, args.threads, args.worker_class), args.threads
            ),
        )
        server = results.pop("server")
        stop(server)
        memory = memory_per_bound_tenant()
        report(results["rows"], memory, args)
    finally:
        stop(server)
        stop(ddb_process)
        from control_plane.celery import app

        app.control.purge()


def benchmark(args, launch_server) -> dict:
    import urllib3
    from botocore.config import Config
    from resale.clock import utc_now

    from provisioning.onboarding import onboarding_run_create, run_onboarding
    from tenants.actions import do_create_tenant, do_issue_api_key

    routes = []
    for i in range(TENANTS):
        slug = f"bench-{i}"
        tenant = do_create_tenant(slug=slug, name=slug, tier="premium", admin_email=f"a@{slug}.example")
        run_onboarding(onboarding_run_create(tenant).id)
        tenant.refresh_from_db()
        key = do_issue_api_key(tenant=tenant, name="bench", scopes=["read", "write"]).key
        routes.append({"slug": slug, "key": key, "tables": tenant.resources["tables"]})

    raw_config = Config(
        max_pool_connections=args.concurrency, retries={"max_attempts": 3, "mode": "standard"}
    )
    raws = [raw_dynamodb(raw_config, slug=route["slug"]) for route in routes]
    now = BENCH_TIME

    def pool_of_listings(count: int) -> list[list[str]]:
        pools = []
        for route, raw in zip(routes, raws, strict=True):
            ids = [uuid.uuid4().hex for _ in range(count)]
            for start in range(0, count, 25):
                raw.batch_write_item(
                    RequestItems={
                        route["tables"]["listings"]: [
                            {"PutRequest": {"Item": listing_item(listing_id)}}
                            for listing_id in ids[start : start + 25]
                        ]
                    }
                )
            pools.append(ids)
        return pools

    read_ids = pool_of_listings(100)
    link_codes = []
    for route, raw in zip(routes, raws, strict=True):
        raw.put_item(
            TableName=route["tables"]["links"],
            Item={
                "code": {"S": "bench"},
                "target_url": {"S": "https://shop.example/x"},
                "affiliate_id": {"S": "a"},
                "listing_id": {"S": "l"},
                "created_at": {"S": now},
                "actor": {"S": "bench"},
            },
        )
        link_codes.append("bench")

    server = launch_server()
    CPU_PIDS["server"] = [server.pid, *_children(server.pid)]
    http = urllib3.PoolManager(maxsize=args.concurrency, retries=False)
    base = f"http://127.0.0.1:{API_PORT}"
    pick = random.Random(7)

    def headers(t: int, **extra) -> dict:
        return {"Authorization": f"Api-Key {routes[t]['key']}", "Content-Type": "application/json", **extra}

    def api_get(n: int) -> bool:
        t = n % TENANTS
        response = http.request(
            "GET", f"{base}/api/v1/listings/{pick.choice(read_ids[t])}", headers=headers(t)
        )
        return response.status == 200

    def raw_get(n: int) -> bool:
        t = n % TENANTS
        raws[t].get_item(
            TableName=routes[t]["tables"]["listings"],
            Key={"id": {"S": pick.choice(read_ids[t])}},
            ReturnConsumedCapacity="TOTAL",
        )
        return True

    body = (
        b'{"seller_id":"s-1","title":"Bench jacket","description":"d","category":"clothing",'
        b'"condition":"good","price":"45.00","currency":"EUR","attributes":{"size":"M"}}'
    )

    def api_create(n: int) -> bool:
        t = n % TENANTS
        return http.request("POST", f"{base}/api/v1/listings", body=body, headers=headers(t)).status == 201

    def raw_create(n: int) -> bool:
        t = n % TENANTS
        item = listing_item(uuid.uuid4().hex)
        item["created_at"] = item["updated_at"] = {"S": utc_now()}
        raws[t].put_item(
            TableName=routes[t]["tables"]["listings"],
            Item=item,
            ConditionExpression="attribute_not_exists(id) AND attribute_not_exists(version)",
            ReturnConsumedCapacity="TOTAL",
        )
        return True

    # Listings to buy, written just before the order runs: written up front they would sit in
    # DynamoDB Local's streams and indexes and slow every other endpoint's run.
    order_pools: dict[str, list[list[str]]] = {}
    cursors = {"api": [0] * TENANTS, "raw": [0] * TENANTS}
    cursor_lock = threading.Lock()

    def next_listing(kind: str, pools, t: int) -> str | None:
        with cursor_lock:
            i = cursors[kind][t]
            cursors[kind][t] += 1
        return pools[t][i] if i < len(pools[t]) else None

    def api_order(n: int) -> bool:
        t = n % TENANTS
        listing_id = next_listing("api", order_pools["api"], t)
        if listing_id is None:
            return False
        payload = json.dumps(
            {
                "listing_id": listing_id,
                "buyer_id": "b",
                "shipping_address": {"line1": "x"},
                "payment_token": "tok",
            }
        ).encode()
        response = http.request(
            "POST",
            f"{base}/api/v1/orders",
            body=payload,
            headers=headers(t, **{"Idempotency-Key": uuid.uuid4().hex}),
        )
        return response.status == 202

    def raw_order(n: int) -> bool:
        t = n % TENANTS
        listing_id = next_listing("raw", order_pools["raw"], t)
        if listing_id is None:
            return False
        tables = routes[t]["tables"]
        key = uuid.uuid4().hex
        order_id = uuid.uuid4().hex
        raws[t].get_item(
            TableName=tables["idempotency"],
            Key={"key": {"S": key}},
            ConsistentRead=True,
            ReturnConsumedCapacity="TOTAL",
        )
        raws[t].get_item(
            TableName=tables["listings"],
            Key={"id": {"S": listing_id}},
            ConsistentRead=True,
            ReturnConsumedCapacity="TOTAL",
        )
        raws[t].transact_write_items(
            ReturnConsumedCapacity="TOTAL",
            TransactItems=[
                {
                    "Update": {
                        "TableName": tables["listings"],
                        "Key": {"id": {"S": listing_id}},
                        "UpdateExpression": "SET #s = :r, reserved_order_id = :o ADD version :one",
                        "ConditionExpression": "#s = :a",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":r": {"S": "reserved"},
                            ":a": {"S": "active"},
                            ":o": {"S": order_id},
                            ":one": {"N": "1"},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": tables["orders"],
                        "ConditionExpression": "attribute_not_exists(id)",
                        "Item": {
                            "id": {"S": order_id},
                            "listing_id": {"S": listing_id},
                            "buyer_id": {"S": "b"},
                            "status": {"S": "submitted"},
                            "amount": {"S": "45.00"},
                            "currency": {"S": "EUR"},
                            "shipping_address": {"M": {"line1": {"S": "x"}}},
                            "payment_token_fingerprint": {"S": "f" * 64},
                            "payment_token_sealed": {"S": "x" * 120},
                            "history": {
                                "L": [
                                    {
                                        "M": {
                                            "status": {"S": "submitted"},
                                            "at": {"S": now},
                                            "actor": {"S": "bench"},
                                            "reason": {"S": ""},
                                        }
                                    }
                                ]
                            },
                            "version": {"N": "1"},
                            "created_at": {"S": now},
                            "updated_at": {"S": now},
                            "actor": {"S": "bench"},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": tables["idempotency"],
                        "ConditionExpression": "attribute_not_exists(#k)",
                        "ExpressionAttributeNames": {"#k": "key"},
                        "Item": {
                            "key": {"S": key},
                            "request_fingerprint": {"S": "f" * 64},
                            "order_id": {"S": order_id},
                            "created_at": {"S": now},
                            "expires_at": {"N": str(int(time.time()) + 86400)},
                        },
                    }
                },
            ],
        )
        return True

    def api_redirect(n: int) -> bool:
        t = n % TENANTS
        response = http.request(
            "GET",
            f"{base}/r/{routes[t]['slug']}/{link_codes[t]}",
            redirect=False,
            headers={"User-Agent": "bench", "Referer": "https://blog.example"},
        )
        return response.status == 302

    def raw_redirect(n: int) -> bool:
        t = n % TENANTS
        raws[t].put_item(
            TableName=routes[t]["tables"]["clicks"],
            Item={
                "code": {"S": link_codes[t]},
                "clicked_at": {"S": f"{utc_now()}#{uuid.uuid4().hex[:6]}"},
                "affiliate_id": {"S": "a"},
                "listing_id": {"S": "l"},
                "referrer": {"S": "https://blog.example"},
                "user_agent": {"S": "bench"},
                "actor": {"S": "anonymous"},
                "expires_at": {"N": str(int(time.time()) + 60 * 86400)},
            },
            ReturnConsumedCapacity="TOTAL",
        )
        return True

    endpoints = [
        (name, api_call, raw_call)
        for name, api_call, raw_call in (
            ("get listing", api_get, raw_get),
            ("create listing", api_create, raw_create),
            ("submit order", api_order, raw_order),
            ("redirect", api_redirect, raw_redirect),
        )
        if not args.only or name in args.only
    ]

    def warm_up(api_call, raw_call) -> None:
        for call in (api_call, raw_call):
            run_load("warm-up", call, WARM_UP_SECONDS / 2, args.concurrency)

    # Clicks first: their table must get its first items before the listings' thousands (see
    # WARM_UP_SECONDS). Orders warm up just before their own run, when their listings exist.
    calls = {name: (api_call, raw_call) for name, api_call, raw_call in endpoints}
    for name in ("redirect", "get listing", "create listing"):
        if name in calls:
            warm_up(*calls[name])
    rows = []
    for name, api_call, raw_call in endpoints:
        if name == "submit order":
            seconds = args.seconds + WARM_UP_SECONDS
            per_tenant = int(seconds * ORDERS_PER_SECOND_CEILING / TENANTS) + 50
            order_pools["api"] = pool_of_listings(per_tenant)
            order_pools["raw"] = pool_of_listings(per_tenant)
            warm_up(api_call, raw_call)
        slice_seconds = args.seconds / args.rounds
        api_runs, raw_runs = [], []
        for _ in range(args.rounds):
            api_runs.append(run_load(name, api_call, slice_seconds, args.concurrency))
            raw_runs.append(run_load(name, raw_call, slice_seconds, args.concurrency))
        api_result, raw_result = merge(api_runs), merge(raw_runs)
        rows.append((name, api_result, raw_result))
    return {"rows": rows, "server": server}


TARGETS = {"get listing": 0.7, "create listing": 0.7, "submit order": 0.7, "redirect": 0.8}


def report(rows, memory: dict, args) -> None:
    print(
        f"\nconcurrency {args.concurrency}, {args.seconds:.0f} s per run, {args.server} "
        f"({args.worker_class if args.server == 'gunicorn' else 'blocking threads'}) "
        f"{args.workers} workers x "
        f"{args.threads} threads, {TENANTS} tenants, DynamoDB Local in memory, 2-core machine"
    )
    print(
        f"{'endpoint':<16}{'API ok/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'fail':>6}   "
        f"{'raw ok/s':>10}{'p50 ms':>9}{'p99 ms':>9}   {'ratio':>6} {'target':>7}"
    )
    for name, api, raw in rows:
        ratio = api["rps"] / raw["rps"] if raw["rps"] else float("nan")
        print(
            f"{name:<16}{api['rps']:>10.0f}{api['p50']:>9.1f}{api['p99']:>9.1f}{api['failed']:>6}   "
            f"{raw['rps']:>10.0f}{raw['p50']:>9.1f}{raw['p99']:>9.1f}   {ratio:>6.2f} {TARGETS[name]:>7.1f}"
        )
    print("\nCPU ms per operation, by process (the machine has 2 cores; all processes share them):")
    for name, api, raw in rows:
        print(f"  {name:<16} API: {cpu_per_op(api)}   raw: {cpu_per_op(raw)}")
    print(
        "\nCPU per operation as a ratio to the raw side (a machine's speed cancels out): the server's"
        " against the raw client's, the store's against the store's under the raw calls"
    )
    print(f"{'endpoint':<16}{'ok/s':>8}{'server CPU':>12}{'store CPU':>11}")
    for name, api, raw in rows:
        print(
            f"{name:<16}{per_raw(api['rps'], raw['rps']):>8.2f}"
            f"{per_raw(cpu_ms(api, 'server'), cpu_ms(raw, 'client')):>11.2f}x"
            f"{per_raw(cpu_ms(api, 'dynamodb'), cpu_ms(raw, 'dynamodb')):>10.2f}x"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other sessions' processes count too)")
    print(
        f"\nmemory per bound tenant (6 tables, shared connection, {memory['tenants']} tenants): "
        f"{memory['shared_bytes'] / 1024:.1f} KiB (target < 100 KiB)"
    )
    print(
        f"memory per tenant with PynamoDB's default client per class: {memory['naive_bytes'] / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    main()
