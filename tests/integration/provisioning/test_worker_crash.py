"""A real Celery worker killed with SIGKILL in the middle of onboarding: the step is redelivered,
runs again, and the tenant ends active with exactly its tables, one membership, one activation."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from provisioning.models import ProvisioningRun
from provisioning.services import start_onboarding
from tenants.models import Membership, TenantEvent
from tenants.services import tenant_create

pytestmark = [pytest.mark.ddblocal, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]


def wait_for(condition, *, timeout: float, interval: float = 0.01, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def pool_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


@pytest.fixture
def celery_worker(dynamodb_local, tmp_path):
    """One prefork worker with one pool process on the provisioning queue, emptied first, of the run's
    broker database (REDIS_URL: one per test run), on the test database.

    The worker sends each next step of a chain itself, routed by the settings, so it must consume
    the queue the settings name."""
    queue = "provisioning"
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "POSTGRES_DB": settings.DATABASES["default"]["NAME"],
        "DYNAMODB_ENDPOINT": dynamodb_local.endpoint,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
    }
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-Q", queue,
             "--pool", "prefork", "--concurrency", "1", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", f"prov-crash-{os.getpid()}@%h", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(lambda: b"ready." in log.read_bytes(), timeout=60, interval=0.2, what="the worker to start")
        yield worker, log
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(5)


def test_a_worker_killed_mid_step_redelivers_it_and_the_tenant_finishes_with_no_duplicates(
    celery_worker, unique_slug, tenant_tables_in_dynamodb
):
    worker, log = celery_worker
    slug = unique_slug("killed")
    tenant = tenant_create(slug=slug, name="Killed", tier="standard", admin_email=f"admin@{slug}.example")
    run = start_onboarding(tenant)  # autocommit: queued at once

    def apply_running() -> bool:
        steps = {s["name"]: s["status"] for s in ProvisioningRun.objects.get(pk=run.pk).steps}
        return steps["apply_program"] == "running"

    wait_for(apply_running, timeout=60, what="apply_program to start")
    (child,) = pool_children(worker.pid)
    os.kill(child, signal.SIGKILL)

    wait_for(
        lambda: ProvisioningRun.objects.get(pk=run.pk).status in ("succeeded", "failed"),
        timeout=90,
        interval=0.2,
        what="the run to finish after the kill",
    )
    run.refresh_from_db()
    tenant.refresh_from_db()
    worker_log = log.read_text()
    assert "WorkerLostError" in worker_log or "signal 9" in worker_log, worker_log[-3000:]
    assert run.status == "succeeded", run.error
    assert tenant.status == "active"
    assert tenant_tables_in_dynamodb(slug) == {f"resale-{slug}-{role}" for role in tenant.resources["tables"]}
    assert len(tenant.resources["tables"]) == 6
    assert {e["action"] for e in run.result if "table" in e} <= {"created", "unchanged"}
    assert ProvisioningRun.objects.filter(tenant=tenant).count() == 1
    assert Membership.objects.filter(tenant=tenant).count() == 1
    assert TenantEvent.objects.filter(tenant=tenant, action="tenant.active").count() == 1
    assert TenantEvent.objects.filter(tenant=tenant, action="tenant.placed").count() == 1
