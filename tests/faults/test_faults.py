"""One fault at a time under a steady mix of tenant traffic: nothing acknowledged is lost, no order is left
unfinished or charged twice, the history misses and repeats nothing, and no answer is a bug's 5xx.

The platform runs as ``make run`` runs it (``scripts/run.sh``: supervisord restarts what dies), with its
own DynamoDB Local (data on disk) and its own redis-server. The table each run prints is the README's.
"""

import contextlib
import json
import math
import os
import signal
import time
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from provisioning.onboarding import onboarding_run_create, run_onboarding
from resale.binding import tenant_dynamodb_client
from resale.history.selectors import history_iter
from resale.tenancy import forget_tenant_routes, tenant_route
from tenants.actions import do_create_tenant, do_issue_api_key
from tests.faults.harness import (
    TABLE_HEADER,
    TERMINAL_ORDER_STATUSES,
    FaultReport,
    RedisServer,
    RunningPlatform,
    TenantClient,
    Traffic,
)
from tests.processes import wait_until
from tests.resale.conftest import listing_body

pytestmark = [pytest.mark.slow, pytest.mark.faults]

TENANTS = 2
PAUSE_SECONDS = 10
SLOWEST_ANSWER_SECONDS = 8
"""What a fault may cost one request: each call to a stalled dependency gives up within its deadline
or socket timeout (DynamoDB 2 s, Redis at most 2 s a call, a request making a few), never waiting
out the whole stall (PAUSE_SECONDS); the rest is room for a loaded machine."""
PLATFORM_ENV = {
    # Recovery paths the suite waits for, shortened where production's defaults would only make it slower:
    # the consumer's shard leases, the stalled-order sweep (orders whose workflow could not be queued).
    "STREAMS_LEASE_SECONDS": "5",
    "STREAMS_DISCOVERY_SECONDS": "1",
    "STREAMS_POLL_IDLE_SECONDS": "0.1",
    "ORDER_STALLED_AFTER_SECONDS": "10",
    "ORDER_STALLED_SWEEP_SECONDS": "3",
    "ORDER_WORKFLOW_BACKOFF_SECONDS": "0.5",
    "ORDER_WORKFLOW_MAX_RETRIES": "10",
    "PROVIDER_TIMEOUT_SECONDS": "5",
    "TENANT_ROUTE_CACHE_SECONDS": "2",
}


@dataclass
class FaultBed:
    platform: RunningPlatform
    redis: RedisServer
    tenants: list[TenantClient]
    staff_token: str
    database: str
    orphans: list[int]
    """Pool processes whose main process a fault killed: ended when the module's platform stops."""


def _onboard(platform: RunningPlatform, slug: str) -> TenantClient:
    tenant = do_create_tenant(
        slug=slug, name=slug.title(), tier="premium", admin_email=f"admin@{slug}.example"
    )
    run_onboarding(onboarding_run_create(tenant).id)
    key = do_issue_api_key(tenant=tenant, name="storefront", scopes=["read", "write"]).key
    headers = {"Authorization": f"Api-Key {key}"}
    created = []

    def first_listing_created() -> bool:
        """DynamoDB Local's first writes to a new table are its slowest (JIT): warm up until one is taken."""
        answer = platform.http.request(
            "POST", f"{platform.url}/api/v1/listings", json=listing_body(), headers=headers
        )
        created.append(answer)
        return answer.status == 201

    wait_until(first_listing_created, f"{slug} to take a listing", timeout=120, interval=0.2)
    listing = created[-1]
    link = platform.http.request(
        "POST",
        f"{platform.url}/api/v1/links",
        json={"target_url": "https://shop.example/x", "listing_id": json.loads(listing.data)["id"]},
        headers=headers,
    )
    assert link.status == 201, link.data
    return TenantClient(slug=slug, key=key, link_code=json.loads(link.data)["code"])


@pytest.fixture(scope="module")
def bed(django_db_setup, django_db_blocker, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("faults")
    redis = RedisServer(workdir)
    with django_db_blocker.unblock():
        database = connection.settings_dict["NAME"]
    artifacts = settings.BASE_DIR / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    platform = RunningPlatform(
        workdir,
        log=artifacts / "faults-platform.log",
        database=database,
        redis_url=redis.url,
        extra_env=PLATFORM_ENV,
    )
    previous = (
        settings.DYNAMODB_ENDPOINT,
        settings.DYNAMODB_READ_TIMEOUT_SECONDS,
        settings.DYNAMODB_CALL_DEADLINE_SECONDS,
    )
    # This process only checks what the platform kept: it waits for DynamoDB as long as it takes.
    settings.DYNAMODB_ENDPOINT = platform.dynamodb_endpoint
    settings.DYNAMODB_READ_TIMEOUT_SECONDS = settings.DYNAMODB_CALL_DEADLINE_SECONDS = 60
    forget_tenant_routes()
    orphans: list[int] = []
    try:
        with django_db_blocker.unblock():
            tenants = [_onboard(platform, f"fault-{os.getpid()}-{n}") for n in range(TENANTS)]
            staff = get_user_model().objects.create_user(
                f"fault-staff-{os.getpid()}", password="fault-pass-1", is_staff=True
            )
        token = platform.http.request(
            "POST",
            f"{platform.url}/control/v1/token",
            json={"username": staff.username, "password": "fault-pass-1"},
            timeout=60,  # a password hash, slow on a loaded machine
        )
        yield FaultBed(platform, redis, tenants, json.loads(token.data)["token"], database, orphans)
    finally:
        platform.stop()
        for pid in orphans:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        redis.stop()
        (
            settings.DYNAMODB_ENDPOINT,
            settings.DYNAMODB_READ_TIMEOUT_SECONDS,
            settings.DYNAMODB_CALL_DEADLINE_SECONDS,
        ) = previous
        forget_tenant_routes()
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0, allow_cascade=True)


@pytest.fixture(scope="module")
def fault_table():
    rows: list[str] = []
    yield rows
    table = "\n".join([TABLE_HEADER, *rows])
    artifacts = settings.BASE_DIR / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "faults.md").write_text(table + "\n")
    print("\n" + table)


def _dynamodb_paused(bed: FaultBed) -> None:
    pid = bed.platform.pid("dynamodb")
    os.kill(pid, signal.SIGSTOP)
    time.sleep(PAUSE_SECONDS)
    os.kill(pid, signal.SIGCONT)


def _dynamodb_killed(bed: FaultBed) -> None:
    """The store goes away and comes back on its data, keeping every write it acknowledged.

    DynamoDB Local answers a ``TransactWriteItems`` once it has queued the SQLite ``COMMIT``, not
    once that has run, so a SIGKILL in between loses a transaction it acknowledged: something
    DynamoDB never does, which no client could make up for (``bench/dynamodb_local_durability.py``
    shows it). So the platform is cut off from the store first; then one read in each tenant's
    namespace, queued behind any ``COMMIT`` there, returns only once those have run; then the kill.
    """
    bed.platform.dynamodb_gate.cut()
    for tenant in bed.tenants:
        models = tenant_route(tenant.slug).models
        tenant_dynamodb_client(models.tenant).get_item(
            TableName=models.history.Meta.table_name,
            Key={"chain": {"S": "settled"}, "seq": {"N": "0"}},
            ConsistentRead=True,
        )
    pid = bed.platform.pid("dynamodb")
    os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: bed.platform.restarted("dynamodb", pid),
        "supervisord to restart DynamoDB",
        timeout=60,
        interval=0.2,
    )
    bed.platform.dynamodb_gate.open()


def _redis_stopped(bed: FaultBed) -> None:
    bed.redis.pause()
    time.sleep(PAUSE_SECONDS)
    bed.redis.resume()


def _postgres_cut(bed: FaultBed) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [bed.database],
        )
        assert cursor.fetchone()[0] > 0, "no connection of the platform's to cut"


def _web_worker_killed(bed: FaultBed) -> None:
    workers = bed.platform.children(bed.platform.pid("web"))
    assert len(workers) >= 2, workers
    os.kill(workers[0], signal.SIGKILL)


def _celery_main_killed(bed: FaultBed) -> None:
    """The orders worker's main process dies; its pool process (mid-task) is left orphaned, as after an
    out-of-memory kill of the main process; the messages it held come back after the visibility timeout."""
    pid = bed.platform.pid("worker-orders")
    bed.orphans.extend(bed.platform.children(pid))
    os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: bed.platform.restarted("worker-orders", pid),
        "the worker to be restarted",
        timeout=60,
        interval=0.2,
    )


def _celery_pool_killed(bed: FaultBed) -> None:
    for child in bed.platform.children(bed.platform.pid("worker-orders")):
        os.kill(child, signal.SIGKILL)


def _consumer_killed(bed: FaultBed) -> None:
    pid = bed.platform.pid("consumer")
    os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: bed.platform.restarted("consumer", pid),
        "the consumer to be restarted",
        timeout=60,
        interval=0.2,
    )


FAULTS = {
    "DynamoDB Local paused 10 s (SIGSTOP)": _dynamodb_paused,
    "DynamoDB Local cut off, killed, restarted on its data": _dynamodb_killed,
    "Redis paused 10 s (SIGSTOP)": _redis_stopped,
    "PostgreSQL connections cut": _postgres_cut,
    "web worker SIGKILLed": _web_worker_killed,
    "Celery worker main process SIGKILLed": _celery_main_killed,
    "Celery pool process SIGKILLed": _celery_pool_killed,
    "stream consumer SIGKILLed": _consumer_killed,
}
SLOW_SHIPPING = {"Celery worker main process SIGKILLed", "Celery pool process SIGKILLed"}


def _history_events(slugs):
    return {slug: list(history_iter(tenant_models=tenant_route(slug).models)) for slug in slugs}


def _read_back(platform: RunningPlatform, tenant: TenantClient, path: str) -> int:
    """The status an acknowledged write reads back with: 200 unless it was lost (404), or the
    platform still answered 503 after 30 s of asking."""
    headers = {"Authorization": f"Api-Key {tenant.key}"}
    deadline = time.monotonic() + 30
    while True:
        answer = platform.http.request("GET", platform.url + path, headers=headers)
        if answer.status in (200, 404) or time.monotonic() > deadline:
            return answer.status
        time.sleep(0.5)


def _telling(event, missing: list[str]) -> bool:
    """Whether a history event helps explain a missing one: a GAP, or another event of its entity."""
    return event.event == "GAP" or event.entity_id in missing


def _order_status(platform: RunningPlatform, tenant: TenantClient, order_id: str) -> str:
    answer = platform.http.request(
        "GET", f"{platform.url}/api/v1/orders/{order_id}", headers={"Authorization": f"Api-Key {tenant.key}"}
    )
    return json.loads(answer.data)["status"] if answer.status == 200 else ""


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_loses_no_acknowledged_write_leaves_no_order_unfinished_and_repeats_no_history(
    bed, fault_table, django_db_blocker, fault
):
    platform, by_slug = bed.platform, {tenant.slug: tenant for tenant in bed.tenants}
    with django_db_blocker.unblock():
        before = _history_events(by_slug)
    duplicates_before = sum(len(events) - len({e.source for e in events}) for events in before.values())
    if fault in SLOW_SHIPPING:
        platform.sandbox("shipping", "slow", delay_seconds=2)
    traffic = Traffic(platform, bed.tenants, bed.staff_token).start()
    try:
        time.sleep(4)
        fault_started = time.monotonic()
        with django_db_blocker.unblock():
            FAULTS[fault](bed)
        time.sleep(4)
        wait_until(
            lambda: (
                any(a.op == "write" and a.ok and a.started > fault_started for a in traffic.answers)
                and FaultReport(fault, list(traffic.answers), fault_started).writes_back_after_seconds
                < math.inf
            ),
            "writes to succeed again",
            timeout=180,
            interval=0.2,
        )
        time.sleep(2)
    finally:
        traffic.stop()
        platform.sandbox("shipping", "approve")
    report = FaultReport(fault, traffic.answers, fault_started)

    acknowledged_paths = [
        (slug, f"/api/v1/{kind}/{entity_id}")
        for kind, written in (("listings", traffic.listings), ("orders", traffic.orders))
        for slug, ids in written.items()
        for entity_id in ids
    ]
    not_read_back = {
        path: status
        for slug, path in acknowledged_paths
        if (status := _read_back(platform, by_slug[slug], path)) != 200
    }
    report.lost_writes = len(not_read_back)
    orders = [(by_slug[slug], order_id) for slug, ids in traffic.orders.items() for order_id in ids]
    with contextlib.suppress(AssertionError):
        wait_until(
            lambda: all(_order_status(platform, t, o) in TERMINAL_ORDER_STATUSES for t, o in orders),
            "the orders to finish",
            timeout=120,
            interval=0.2,
        )
    unfinished = {
        o: status
        for t, o in orders
        if (status := _order_status(platform, t, o)) not in TERMINAL_ORDER_STATUSES
    }
    report.unfinished_orders = len(unfinished)
    report.charged_or_shipped_twice = sum(
        platform.sandbox_made("charge", o) > 1 or platform.sandbox_made("shipment", o) > 1 for _, o in orders
    )

    acknowledged = {slug: set(traffic.listings[slug]) | set(traffic.orders[slug]) for slug in by_slug}

    def history_complete() -> bool:
        with django_db_blocker.unblock():
            events = _history_events(by_slug)
        return all(acknowledged[slug] <= {e.entity_id for e in events[slug]} for slug in by_slug)

    with contextlib.suppress(AssertionError):
        wait_until(history_complete, "the history to be complete", timeout=60, interval=0.2)
    with django_db_blocker.unblock():
        after = _history_events(by_slug)
    missing = sorted(
        entity_id
        for slug in by_slug
        for entity_id in acknowledged[slug] - {e.entity_id for e in after[slug] if e.event == "INSERT"}
    )
    report.history_missing = len(missing)
    report.history_duplicated = (
        sum(len(events) - len({e.source for e in events}) for events in after.values()) - duplicates_before
    )
    fault_table.append(report.row())
    # What a failure needs to be explained: which writes, and what reading them back answered.
    telling = [
        (e.event, e.entity_id, e.stream_sequence)
        for slug in by_slug
        for e in after[slug]
        if _telling(e, missing)
    ]
    details = (
        f"not read back (path: status): {not_read_back}; unfinished orders (id: status): {unfinished}; "
        f"missing from the history: {missing}; the history's GAP events and the missing ids' other events: "
        f"{telling}"
    )
    print(f"\n{report.row()}\nnot 2xx and not 503+Retry-After: {dict(report.others)}\n{details}")

    assert report.kinds["2xx"] > 0
    assert report.slowest_answer_seconds <= SLOWEST_ANSWER_SECONDS, report.row()
    assert (
        report.bug_5xx,
        report.lost_writes,
        report.unfinished_orders,
        report.charged_or_shipped_twice,
        report.history_missing,
        report.history_duplicated,
    ) == (0, 0, 0, 0, 0, 0), f"{report.row()} {details}"
    assert platform.http.request("GET", f"{platform.url}/healthz").status == 200


def test_sigterm_stops_every_process_make_run_started_and_nothing_else(bed):
    """As Ctrl-C does: every program and its children end; what it did not start (Redis) lives on."""
    programs = ["dynamodb", "web", "beat", "consumer"]
    programs += [f"worker-{queue}" for queue in ("provisioning", "orders", "webhooks")]
    started = [bed.platform.pid(program) for program in programs]
    started += [child for pid in started for child in bed.platform.children(pid)]
    bed.platform.stop()
    assert bed.platform.process.returncode == 0
    assert [pid for pid in started if _alive(pid)] == []
    assert bed.redis.process.poll() is None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
