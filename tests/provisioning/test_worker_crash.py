"""A real Celery worker killed with SIGKILL in the middle of onboarding: the step is redelivered,
runs again, and the tenant ends active with exactly its tables, one membership, one activation."""

import os
import signal

import pytest

from provisioning.actions import do_start_onboarding
from provisioning.models import ProvisioningRun
from tenants.actions import do_create_tenant
from tenants.models import Membership, TenantEvent
from tests.processes import pool_children, wait_until

pytestmark = [pytest.mark.ddblocal, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_step_redelivers_it_and_the_tenant_finishes_with_no_duplicates(
    celery_worker, unique_slug, tenant_tables_in_dynamodb
):
    slug = unique_slug("killed")
    tenant = do_create_tenant(slug=slug, name="Killed", tier="standard", admin_email=f"admin@{slug}.example")
    run = do_start_onboarding(tenant=tenant)  # autocommit: queued at once

    def apply_running() -> bool:
        steps = {s["name"]: s["status"] for s in ProvisioningRun.objects.get(pk=run.pk).steps}
        return steps["apply_program"] == "running"

    wait_until(apply_running, "apply_program to start", timeout=60, interval=0.01)
    (child,) = pool_children(celery_worker.process.pid)
    os.kill(child, signal.SIGKILL)

    wait_until(
        lambda: ProvisioningRun.objects.get(pk=run.pk).status in ("succeeded", "failed"),
        "the run to finish after the kill",
        timeout=90,
        interval=0.2,
    )
    run.refresh_from_db()
    tenant.refresh_from_db()
    worker_log = celery_worker.log.read_text()
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
