"""The fleet on one machine: onboarding hundreds of tenants, what they cost at rest, and a rollout.

Starts its own platform (as ``bench/onboarding.py`` does: DynamoDB Local in memory, a PostgreSQL
database and Redis db of its own, granian, a Celery worker) plus the stream consumer, then:

1. onboards ``--tenants`` tenants (default 300): the first 10 and the last 10 one after another,
   timed, the rest ``--parallel`` at a time;
2. lets the fleet settle (``--settle`` seconds), then samples the CPU of every process (DynamoDB
   Local included) over ``--idle-seconds`` with no traffic at all: per process, in all, and per
   tenant;
3. writes a listing to a tenant that was idle all along and times until it is in its history
   (``/api/v1/audit/events``);
4. reads one listing of every tenant through the web server and reports its workers' resident
   memory per bound tenant;
5. with ``--rollout``, starts a rollout of the current tenant program (``POST /control/v1/rollouts``)
   to every tenant after restarting the worker with a program whose orders table gains an index,
   and times it until it ends.

    .venv/bin/python bench/fleet.py                      # 300 tenants, ports 8010/8011
    .venv/bin/python bench/fleet.py --tenants 50 --idle-seconds 30
"""

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from onboarding import Api, Platform, onboard_one, start, start_platform, worker_command
from support.cpu import cpu_seconds, rss_bytes

from tests.processes import wait_until
from tests.program_changes import NEW_INDEX_SITECUSTOMIZE


def onboard_timed(api: Api, count: int) -> list[float]:
    return [onboard_one(api, "standard", timeout=300) for _ in range(count)]


def slugs_of(api: Api) -> list[str]:
    _, body = api.call("GET", "/control/v1/tenants")
    items = body if isinstance(body, list) else body.get("items", [])
    return [tenant["slug"] for tenant in items if tenant.get("status") == "active"]


def api_key(api: Api, slug: str, scopes: list[str]) -> str:
    status, body = api.call(
        "POST", f"/control/v1/tenants/{slug}/api-keys", {"name": "bench", "scopes": scopes}
    )
    if status != 201:
        raise RuntimeError(f"key for {slug}: {status} {body}")
    return body["key"]


class TenantApi(Api):
    def __init__(self, base: str, key: str) -> None:
        super().__init__(base)
        self.key = key

    def authorization(self) -> dict[str, str]:
        return {"Authorization": f"Api-Key {self.key}"}


def history_lag(api: Api, slug: str) -> float:
    tenant = TenantApi(api.base, api_key(api, slug, ["read", "write", "audit"]))
    seller = f"idle-{uuid.uuid4().hex[:6]}"
    started = time.perf_counter()
    status, listing = tenant.call(
        "POST",
        "/api/v1/listings",
        {
            "seller_id": seller,
            "title": "Idle tenant's first write",
            "description": "",
            "category": "bench",
            "condition": "good",
            "price": "10.00",
            "currency": "EUR",
            "attributes": {},
        },
    )
    if status != 201:
        raise RuntimeError(f"listing on {slug}: {status} {listing}")
    events = f"/api/v1/audit/events?entity_type=listing&entity_id={listing['id']}"
    wait_until(
        lambda: tenant.call("GET", events)[1].get("items"), "the write to reach the history", timeout=120
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=300)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--settle", type=float, default=45.0)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--rollout", action="store_true")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--dynamodb-port", type=int, default=8011)
    parser.add_argument("--database", default="resale_bench_fleet")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--worker-concurrency", type=int, default=2)
    args = parser.parse_args()

    with ExitStack() as stack:
        platform = start_platform(stack, args, with_consumer=True)
        api, processes = platform.api, platform.processes

        first = onboard_timed(api, min(10, args.tenants))
        middle = max(0, args.tenants - 20)
        batch_started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            list(pool.map(lambda _: onboard_one(api, "standard", timeout=300), range(middle)))
        print(
            f"onboarded {middle} tenants {args.parallel} at a time "
            f"in {time.perf_counter() - batch_started:.0f}s"
        )
        last = onboard_timed(api, max(0, min(10, args.tenants - 10)))
        print(f"first 10 one after another: median {statistics.median(first):.2f}s")
        if last:
            print(
                f"last 10 one after another: median {statistics.median(last):.2f}s "
                f"({statistics.median(last) / statistics.median(first):.2f}x the first; goal <= 1.5x)"
            )

        slugs = slugs_of(api)
        idle_slug = slugs[len(slugs) // 2]
        print(f"{len(slugs)} active tenants; settling {args.settle:.0f}s with no traffic")
        time.sleep(args.settle)
        before = {name: cpu_seconds(pid) for name, pid in processes.items()}
        time.sleep(args.idle_seconds)
        spent = {name: cpu_seconds(pid) - before[name] for name, pid in processes.items()}
        total = sum(spent.values()) / args.idle_seconds
        for name, seconds in spent.items():
            print(f"idle CPU {name}: {100 * seconds / args.idle_seconds:.2f}% of a core")
        print(
            f"idle CPU, every process: {100 * total:.2f}% of a core for {len(slugs)} tenants, "
            f"{100 * total / len(slugs):.4f}% per tenant (goal <= 0.1%)"
        )

        print(f"history lag of a write to an idle tenant: {history_lag(api, idle_slug):.2f}s")

        web_before = rss_bytes(processes["web"])
        for slug in slugs:
            TenantApi(api.base, api_key(api, slug, ["read"])).call("GET", "/api/v1/listings/none")
        web_after = rss_bytes(processes["web"])
        print(
            f"web memory per bound tenant: {(web_after - web_before) / len(slugs) / 1024:.1f} KiB "
            "(every worker)"
        )

        if args.rollout:
            rollout_new_index(stack, platform, args)
    sys.exit(0)


def rollout_new_index(stack: ExitStack, platform: Platform, args) -> None:
    """Restarts the worker with a program whose orders table has one index more, then rolls it out."""
    api = platform.api
    site = Path(tempfile.mkdtemp(prefix="fleet-program-"))
    (site / "sitecustomize.py").write_text(NEW_INDEX_SITECUSTOMIZE)
    os.killpg(platform.processes.pop("worker"), signal.SIGTERM)
    env = {**platform.env, "PYTHONPATH": str(site)}
    # The worker of the provisioning queue, where the rollout's tasks go, with the changed program.
    start(
        stack,
        worker_command(args.worker_concurrency, f"fleet-{os.getpid()}"),
        env,
        platform.logs / "worker-new-program.log",
    )
    started = time.perf_counter()
    status, body = api.call(
        "POST",
        "/control/v1/rollouts",
        {"tenants": "all", "canary": 1, "wave_size": 50, "max_parallel": 4, "max_failures": 0},
    )
    if status != 202:
        print(f"rollout not started: {status} {body}")
        return
    while True:
        _, rollout = api.call("GET", f"/control/v1/rollouts/{body['id']}")
        if rollout.get("status") not in ("running", "pending"):
            break
        time.sleep(1)
    tenants = [tenant for wave in rollout.get("waves", []) for tenant in wave["tenants"]]
    changed = sum(1 for tenant in tenants if tenant["status"] == "changed")
    print(
        f"rollout adding a GSI: {rollout.get('status')} in {time.perf_counter() - started:.0f}s, "
        f"{changed} of {len(tenants)} tenants changed"
    )


if __name__ == "__main__":
    main()
