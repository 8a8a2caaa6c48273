"""A real Celery worker killed with SIGKILL while it applies a rollout's tenant: the apply is
redelivered, the rollout goes on to its next wave, and every tenant gets exactly one update run."""

import os
import signal

import pytest

from provisioning.actions import do_start_rollout
from provisioning.models import ProvisioningRun, Rollout
from tests.processes import pool_children, wait_until

pytestmark = [pytest.mark.ddblocal, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_apply_redelivers_it_and_the_rollout_finishes_with_one_run_per_tenant(
    celery_worker, provisioned_tenant
):
    tenants = [provisioned_tenant() for _ in range(2)]
    rollout = do_start_rollout(
        tenants=[t.slug for t in tenants], canary=1, wave_size=1, max_parallel=1, max_failures=0
    )  # autocommit: queued at once

    def canary_applying() -> bool:
        return ProvisioningRun.objects.filter(tenant=tenants[0], kind="update", status="running").exists()

    wait_until(canary_applying, "the canary's apply to start", timeout=120)
    (child,) = pool_children(celery_worker.process.pid)
    os.kill(child, signal.SIGKILL)

    wait_until(
        lambda: Rollout.objects.get(pk=rollout.pk).status != "running",
        "the rollout to finish after the kill",
        timeout=180,
        interval=0.2,
    )
    rollout.refresh_from_db()
    worker_log = celery_worker.log.read_text()
    assert "WorkerLostError" in worker_log or "signal 9" in worker_log, worker_log[-3000:]
    assert rollout.status == "succeeded", rollout.halted_reason
    assert {entry.status for entry in rollout.tenants.all()} == {"unchanged"}
    for tenant in tenants:
        (run,) = ProvisioningRun.objects.filter(tenant=tenant, kind="update")
        assert run.status == "succeeded"
        assert tenant.events.filter(action="tenant.updated").count() == 1
