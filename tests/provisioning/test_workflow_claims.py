"""Two workers handed the same step: one claims the run and applies, the other applies nothing.

The claimant holds no transaction or row lock while it acts, so the registry stays writable."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from provisioning.errors import RunClaimed
from provisioning.models import ProvisioningRun
from provisioning.tasks import run_provisioning_step
from provisioning.workflow import run_create, run_step
from tenants.actions import do_create_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_racing_on_one_step_apply_it_once_and_hold_no_lock_while_applying(unique_slug):
    slug = unique_slug("race")
    tenant = do_create_tenant(slug=slug, name="Race", tier="standard", admin_email=f"admin@{slug}.example")
    applying, release = threading.Event(), threading.Event()
    applies: list[int] = []

    def apply_program(run: ProvisioningRun) -> None:
        applies.append(run.pk)
        applying.set()
        assert release.wait(timeout=30)
        run.outputs = {"applied": True}

    steps = [("apply_program", apply_program)]
    run = run_create(tenant=tenant, kind=ProvisioningRun.Kind.ONBOARD, steps=steps)

    def worker() -> ProvisioningRun:
        try:
            return run_step(run_id=run.pk, name="apply_program", steps=steps)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as workers:
        first = workers.submit(worker)
        assert applying.wait(timeout=30)
        with pytest.raises(RunClaimed):
            workers.submit(worker).result(timeout=30)
        with transaction.atomic():
            claimed = ProvisioningRun.objects.select_for_update(nowait=True).get(pk=run.pk)
        assert [step["status"] for step in claimed.steps] == ["running"]
        release.set()
        assert first.result(timeout=30).status == ProvisioningRun.Status.SUCCEEDED

    retried = run_step(run_id=run.pk, name="apply_program", steps=steps)
    assert applies == [run.pk]
    assert retried.status == ProvisioningRun.Status.SUCCEEDED
    assert retried.outputs == {"applied": True}
    assert [set(step) for step in retried.steps] == [{"name", "status", "at", "detail"}]


def test_a_duplicate_that_gives_up_waiting_for_a_claimed_run_leaves_the_run_to_its_holder(unique_slug):
    slug = unique_slug("gave-up")
    tenant = do_create_tenant(slug=slug, name="Gave up", tier="standard", admin_email=f"admin@{slug}.example")
    run = run_create(tenant=tenant, kind=ProvisioningRun.Kind.ONBOARD, steps=[("apply_program", print)])
    error = RunClaimed(f"Run {run.pk} is claimed by another worker.")
    run_provisioning_step.on_failure(error, "task-id", (run.pk, "apply_program"), {}, None)
    run.refresh_from_db()
    tenant.refresh_from_db()
    assert run.status == ProvisioningRun.Status.PENDING and tenant.status == "provisioning"
