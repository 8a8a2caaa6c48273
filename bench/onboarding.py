"""Times onboarding end to end: POST /control/v1/tenants until the tenant is ``active``.

Reports the median (and spread) of 10 tenants onboarded one after another, then of 10 posted at
once, with the wall-clock time of that batch. By default it starts what it needs on its own
ports: DynamoDB Local (in memory), a PostgreSQL database of its own (migrated), granian and a
Celery worker, all on a Redis db of its own; it stops them at the end. With --url it uses a
platform already running there (give --username/--password of a staff user).

    .venv/bin/python bench/onboarding.py                     # starts everything (ports 8010, 8011)
    .venv/bin/python bench/onboarding.py --url http://127.0.0.1:8000 --username staff --password ...
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from support.dynamodb import start_dynamodb
from support.paths import LOGS, ROOT, VENV_BIN
from support.platform_env import platform_env, scratch_database
from support.processes import start_process, stop_process
from support.server import server_command, start_server

from tests.processes import wait_until


class Api:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.base}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", **self.authorization()},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def authorization(self) -> dict[str, str]:
        """The staff token once logged in."""
        return {"Authorization": f"Token {self.token}"} if self.token else {}

    def login(self, username: str, password: str) -> None:
        status, body = self.call("POST", "/control/v1/token", {"username": username, "password": password})
        if status != 200:
            raise SystemExit(f"could not get a staff token: {status} {body}")
        self.token = body["token"]


def onboard_one(api: Api, tier: str, timeout: float = 120) -> float:
    """Seconds from POST to ``active``."""
    slug = f"bench-{uuid.uuid4().hex[:10]}"
    started = time.perf_counter()
    status, body = api.call(
        "POST",
        "/control/v1/tenants",
        {"slug": slug, "name": slug, "tier": tier, "admin_email": f"a@{slug}.example"},
    )
    if status != 202:
        raise RuntimeError(f"POST answered {status}: {body}")

    def active() -> bool:
        _, detail = api.call("GET", f"/control/v1/tenants/{slug}")
        if detail.get("status") == "failed":
            raise RuntimeError(f"{slug} failed: {detail.get('failure_reason')}")
        return detail.get("status") == "active"

    wait_until(active, f"{slug} to be active", timeout=timeout, interval=0.1)
    return time.perf_counter() - started


def summary(label: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    return (
        f"{label}: median {statistics.median(ordered):.2f}s, min {ordered[0]:.2f}s, "
        f"max {ordered[-1]:.2f}s (n={len(ordered)})"
    )


def start(stack: ExitStack, command: list[str], env: dict, log: Path) -> subprocess.Popen:
    """Starts ``command``, to be stopped when ``stack`` closes."""
    process = start_process(command, env, log)
    stack.callback(stop_process, process)
    return process


@dataclass
class Platform:
    api: Api
    env: dict
    logs: Path
    processes: dict[str, int] = field(default_factory=dict)
    """Process ids by name (each the leader of its process group)."""


def worker_command(concurrency: int, name: str) -> list[str]:
    """The Celery worker of the provisioning queue, where onboarding and rollout tasks are routed."""
    return [str(VENV_BIN / "celery"), "-A", "control_plane", "worker", "-Q", "provisioning",
            "--loglevel", "WARNING", "--concurrency", str(concurrency),
            "--without-gossip", "--without-mingle", "-n", f"{name}@%h"]  # fmt: skip


def start_platform(stack: ExitStack, args: argparse.Namespace, *, with_consumer: bool = False) -> Platform:
    LOGS.mkdir(parents=True, exist_ok=True)
    dynamodb = start_dynamodb(port=args.dynamodb_port)
    stack.callback(dynamodb.stop)
    env = {
        **os.environ,
        **platform_env(
            dynamodb_endpoint=dynamodb.endpoint,
            api_port=args.port,
            database=args.database,
            redis_url=args.redis_url,
        ),
        "OFFBOARDING_EXPORT_DIR": str(LOGS / "exports"),
        "DJANGO_SUPERUSER_USERNAME": "bench-staff",
        "DJANGO_SUPERUSER_PASSWORD": "bench-staff-password",
        "DJANGO_SUPERUSER_EMAIL": "bench@example.com",
    }
    scratch_database(env)
    subprocess.run(["redis-cli", "-u", args.redis_url, "flushdb"], check=True, stdout=subprocess.DEVNULL)
    manage = [str(VENV_BIN / "python"), "manage.py"]
    subprocess.run([*manage, "createsuperuser", "--noinput"], cwd=ROOT, env=env, check=True)

    web = start_server(server_command(args.port), args.port, env, LOGS / "web.log")
    stack.callback(stop_process, web)
    processes = {"dynamodb": dynamodb.process.pid, "web": web.pid}
    processes["worker"] = start(
        stack, worker_command(args.worker_concurrency, f"bench-{os.getpid()}"), env, LOGS / "worker.log"
    ).pid
    if with_consumer:
        processes["consumer"] = start(
            stack, [*manage, "consume_streams"], {**env, "STREAMS_METRICS_PORT": "0"}, LOGS / "consumer.log"
        ).pid
    api = Api(f"http://127.0.0.1:{args.port}")
    wait_until(
        lambda: api.call("GET", "/readyz")[0] == 200,
        "DynamoDB, PostgreSQL and Redis to be ready",
        timeout=60,
        interval=0.25,
        ignoring=(OSError,),
    )
    api.login("bench-staff", "bench-staff-password")
    print(f"started the platform on 127.0.0.1:{args.port} (logs in {LOGS})")
    return Platform(api=api, env=env, logs=LOGS, processes=processes)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="use a running platform instead of starting one")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--dynamodb-port", type=int, default=8011)
    parser.add_argument("--database", default="resale_bench_onboarding")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--tier", default="standard", choices=["standard", "premium"])
    parser.add_argument("-n", type=int, default=10, help="tenants per measurement")
    args = parser.parse_args()

    with ExitStack() as stack:
        if args.url:
            api = Api(args.url)
            api.login(args.username, args.password)
        else:
            api = start_platform(stack, args).api

        onboard_one(api, args.tier)  # warm-up: imports, connection pools, the cell
        sequential = [onboard_one(api, args.tier) for _ in range(args.n)]
        print(summary(f"{args.n} {args.tier} tenants one after another", sequential))

        batch_started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.n) as pool:
            concurrent = list(pool.map(lambda _: onboard_one(api, args.tier), range(args.n)))
        wall = time.perf_counter() - batch_started
        print(
            summary(f"{args.n} {args.tier} tenants at once", concurrent) + f"; all active after {wall:.2f}s"
        )
    sys.exit(0)


if __name__ == "__main__":
    main()
