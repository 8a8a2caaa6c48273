"""The registry actions that start provisioning work: onboard, retry, offboard, change a tier, roll out.

Each records its run (or rollout) and its ``TenantEvent`` in one transaction and queues the
work once that transaction commits, so a rolled-back action queues nothing and a queued task
always finds its run. The API, the console and the workflows call these; the pure registry
actions they build on are in ``tenants.actions``.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from provisioning.errors import NothingToRetry, TenantBusy
from provisioning.models import ProvisioningRun, Rollout
from provisioning.offboarding import offboarding_run_create
from provisioning.onboarding import onboarding_run_create
from provisioning.rollouts import rollout_cancel, rollout_create, rollout_resume
from provisioning.selectors import tenant_runs
from provisioning.tasks import rollout_start, run_workflow_start, update_run_start
from provisioning.updates import IN_FLIGHT, update_run_create
from provisioning.workflow import run_resume
from tenants.actions import do_change_tenant_status, do_create_tenant, record_tenant_event
from tenants.models import Tenant


def do_start_onboarding(*, tenant: Tenant, actor: AbstractBaseUser | None = None) -> ProvisioningRun:
    """Records an onboarding run and queues its workflow once the current transaction commits."""
    with transaction.atomic():
        run = onboarding_run_create(tenant)
        record_tenant_event(tenant=tenant, action="tenant.onboarding_started", actor=actor, run=run.pk)
        transaction.on_commit(lambda: run_workflow_start(run))
    return run


def do_onboard_tenant(
    *, slug: str, name: str, tier: str, admin_email: str, actor: AbstractBaseUser | None = None
) -> ProvisioningRun:
    """Registers the tenant and starts its onboarding, both or neither; returns the run."""
    with transaction.atomic():
        tenant = do_create_tenant(slug=slug, name=name, tier=tier, admin_email=admin_email, actor=actor)
        return do_start_onboarding(tenant=tenant, actor=actor)


def do_retry_failed_run(*, tenant: Tenant, actor: AbstractBaseUser | None = None) -> ProvisioningRun:
    """Resumes the tenant's failed run (onboarding, or an offboarding) from the step that failed."""
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        run = tenant_runs(locked).exclude(kind=ProvisioningRun.Kind.UPDATE).first()
        if run is None or run.status != ProvisioningRun.Status.FAILED:
            raise NothingToRetry(f"Tenant {locked.slug} has no failed run to retry.")
        resumed_status = (
            Tenant.Status.PROVISIONING
            if run.kind == ProvisioningRun.Kind.ONBOARD
            else Tenant.Status.OFFBOARDING
        )
        do_change_tenant_status(tenant=locked, status=resumed_status, actor=actor)
        run = run_resume(run=run)
        record_tenant_event(tenant=locked, action="tenant.retried", actor=actor, run=run.pk, kind=run.kind)
        transaction.on_commit(lambda: run_workflow_start(run))
    tenant.refresh_from_db()
    return run


def do_offboard(*, tenant: Tenant, actor: AbstractBaseUser | None = None) -> ProvisioningRun:
    """Moves the tenant to ``offboarding`` and queues the export-then-delete workflow.

    Idempotent: a tenant already offboarding or offboarded gets its offboarding run back.
    A failed offboarding is resumed, not started again.
    """
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        latest = tenant_runs(locked).first()
        if latest is not None and latest.kind == ProvisioningRun.Kind.OFFBOARD:
            if latest.status in IN_FLIGHT or locked.status == Tenant.Status.OFFBOARDED:
                return latest
            if latest.status == ProvisioningRun.Status.FAILED:
                return do_retry_failed_run(tenant=locked, actor=actor)
        if latest is not None and latest.status in IN_FLIGHT:
            raise TenantBusy(
                f"Run {latest.pk} ({latest.kind}) of tenant {locked.slug} is in progress; "
                "offboard it when that ends."
            )
        do_change_tenant_status(tenant=locked, status=Tenant.Status.OFFBOARDING, actor=actor)
        run = offboarding_run_create(locked)
        transaction.on_commit(lambda: run_workflow_start(run))
    tenant.refresh_from_db()
    return run


def do_change_tier(*, tenant: Tenant, tier: str, actor: AbstractBaseUser | None = None) -> ProvisioningRun:
    """Applies the program for the new tier to the live tenant; its tier switches once applied."""
    with transaction.atomic():
        run = update_run_create(tenant=tenant, tier=tier, actor=actor)
        transaction.on_commit(lambda: update_run_start(run))
    return run


def do_start_rollout(*, actor: AbstractBaseUser | None = None, **options) -> Rollout:
    """Records a rollout (see ``provisioning.rollouts.rollout_create``) and starts it from a worker."""
    with transaction.atomic():
        rollout = rollout_create(actor=actor, **options)
        transaction.on_commit(lambda: rollout_start(rollout))
    return rollout


def do_resume_rollout(*, rollout: Rollout) -> Rollout:
    with transaction.atomic():
        rollout = rollout_resume(rollout=rollout)
        transaction.on_commit(lambda: rollout_start(rollout))
    return rollout


def do_cancel_rollout(*, rollout: Rollout) -> Rollout:
    return rollout_cancel(rollout=rollout)
