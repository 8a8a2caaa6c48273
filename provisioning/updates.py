"""Update runs: the tenant program applied again to a live tenant (a tier change, a rollout).

Claim, act, commit. The worker claims the run (``provisioning.claims``) and marks it running in
a short transaction; the engine applies the program with no transaction or row lock held (an
apply takes seconds to minutes); the outcome is committed in a second short transaction, only
if the run is still running. A worker killed mid-apply loses its claim with its connection and
leaves the run running: the redelivered task claims it again, applies again (idempotent) and
commits once.

The tenant keeps its status (active or suspended) and keeps serving throughout. Its tier, and
with it its quotas and feature flags (``tenants.tiers``), switch in the commit, once the tables
are as the new tier declares: an upgrade's extra resources exist before premium is promised.

One run of a tenant at a time: an update run is created only while no other run of the tenant
is pending or running, under the tenant's row lock (``TenantBusy`` otherwise, 409).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from provisioning.claims import run_claim
from provisioning.engines.base import Deployment, program_config
from provisioning.engines.selection import provisioning_engine
from provisioning.errors import TRANSIENT_ERRORS, TenantBusy, TenantNotProvisioned
from provisioning.models import ProvisioningRun
from tenants.actions import do_apply_tenant_update, record_tenant_event
from tenants.models import Tenant

UPDATABLE_STATUSES = (Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED)
IN_FLIGHT = (ProvisioningRun.Status.PENDING, ProvisioningRun.Status.RUNNING)
FINISHED = (ProvisioningRun.Status.SUCCEEDED, ProvisioningRun.Status.FAILED)
CHANGING_ACTIONS = frozenset({"created", "changed", "replaced", "deleted"})
UPDATE_STEPS = ("apply_program", "record_outputs")


def changes_anything(entries: list[dict]) -> bool:
    """Whether a plan or result (of either engine) creates, changes, replaces or deletes anything."""
    return any(entry.get("action") in CHANGING_ACTIONS for entry in entries)


def tenant_run_in_flight(tenant: Tenant) -> ProvisioningRun | None:
    return ProvisioningRun.objects.filter(tenant=tenant, status__in=IN_FLIGHT).order_by("-id").first()


def update_run_create(
    *, tenant: Tenant, tier: str | None = None, actor: AbstractBaseUser | None = None
) -> ProvisioningRun:
    """Records an update run applying the program for ``tier`` (default: the tenant's own)."""
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if locked.status not in UPDATABLE_STATUSES or locked.cell_id is None:
            raise TenantNotProvisioned(
                f"Tenant {locked.slug} is {locked.status}: only a live tenant is updated."
            )
        busy = tenant_run_in_flight(locked)
        if busy is not None:
            raise TenantBusy(
                f"Run {busy.pk} ({busy.kind}) of tenant {locked.slug} is in progress; try when it ends."
            )
        run = ProvisioningRun.objects.create(
            tenant=locked,
            kind=ProvisioningRun.Kind.UPDATE,
            tier=tier or locked.tier,
            steps=[{"name": name, "status": "pending"} for name in UPDATE_STEPS],
        )
        record_tenant_event(
            tenant=locked,
            action="tenant.update_started",
            actor=actor,
            run=run.pk,
            tier=run.tier,
            previous_tier=locked.tier,
        )
    return run


def _locked_run(run_id: int) -> ProvisioningRun:
    return (
        ProvisioningRun.objects.select_for_update(of=("self",))
        .select_related("tenant", "tenant__cell")
        .get(pk=run_id)
    )


def _mark_steps(run: ProvisioningRun, status: str, detail: str = "") -> None:
    for step in run.steps:
        if step["status"] != "done":
            step.update(status=status, at=timezone.now().isoformat(), detail=detail)
            if status == "running":
                return


def _claim(run_id: int) -> ProvisioningRun | None:
    with transaction.atomic():
        run = _locked_run(run_id)
        if run.status in FINISHED:
            return None
        run.status = ProvisioningRun.Status.RUNNING
        run.error = ""
        _mark_steps(run, "running")
        run.save(update_fields=["status", "error", "steps"])
    return run


def _commit(run_id: int, engine: str, deployment: Deployment) -> ProvisioningRun:
    with transaction.atomic():
        run = _locked_run(run_id)
        if run.status != ProvisioningRun.Status.RUNNING:
            return run
        run.engine = engine
        run.plan = deployment.plan
        run.result = deployment.result
        run.outputs = deployment.outputs
        _mark_steps(run, "done")
        run.status = ProvisioningRun.Status.SUCCEEDED
        run.finished_at = timezone.now()
        run.save()
        do_apply_tenant_update(
            tenant=run.tenant,
            tier=run.tier,
            outputs=deployment.outputs,
            run_id=run.pk,
            engine=engine,
            changed=changes_anything(run.result),
        )
    return run


def update_run_fail(*, run_id: int, error: BaseException) -> ProvisioningRun:
    """Fails the update run with the reason. The tenant keeps its status and serves what exists."""
    with transaction.atomic():
        run = _locked_run(run_id)
        if run.status in FINISHED:
            return run
        run.status = ProvisioningRun.Status.FAILED
        run.error = f"{type(error).__name__}: {error}"
        _mark_steps(run, "failed", run.error)
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "steps", "finished_at"])
        record_tenant_event(tenant=run.tenant, action="tenant.update_failed", run=run.pk, reason=run.error)
    return run


def run_update(*, run_id: int) -> ProvisioningRun:
    """Applies the program for the run's tier and records the outcome; a finished run is returned as is.

    Transient errors propagate for the task to retry (the run stays running, claimable again),
    RunClaimed among them while another worker holds the run.
    """
    with run_claim(run_id):
        run = _claim(run_id)
        if run is None:
            return ProvisioningRun.objects.get(pk=run_id)
        engine = provisioning_engine()
        try:
            deployment = engine.deploy(program_config(run.tenant, run.tenant.cell, tier=run.tier))
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - any other failure is the run's reason, kept on the run
            return update_run_fail(run_id=run_id, error=exc)
        return _commit(run_id, engine.name, deployment)
