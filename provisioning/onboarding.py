"""Onboarding: the steps that take a tenant from ``provisioning`` to ``active``.

Each step is idempotent and its completion is recorded on the run, so a worker killed at
any step and run again resumes after the last finished step and makes no duplicates.
"""

import logging
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from httpkit.dynamo import dynamodb_client

from provisioning.dynamo_apply import apply_table
from provisioning.models import ProvisioningRun
from provisioning.outputs import table_outputs
from provisioning.table_specs import tenant_table_specs
from tenants.models import Membership, Tenant
from tenants.services import membership_grant, tenant_set_status

logger = logging.getLogger(__name__)


def apply_tenant_tables(run: ProvisioningRun) -> None:
    client = dynamodb_client()
    changes = [
        apply_table(client, spec).as_dict() for spec in tenant_table_specs(run.tenant.slug, run.tenant.tier)
    ]
    run.result = changes
    run.save(update_fields=["result"])


def record_tenant_outputs(run: ProvisioningRun) -> None:
    tenant = run.tenant
    outputs = table_outputs(dynamodb_client(), tenant_table_specs(tenant.slug, tenant.tier))
    tenant.resources = {**tenant.resources, **outputs}
    tenant.save(update_fields=["resources", "updated_at"])


def grant_admin_membership(run: ProvisioningRun) -> None:
    tenant = run.tenant
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=tenant.admin_email, defaults={"email": tenant.admin_email, "is_active": True}
    )
    membership_grant(tenant=tenant, user=user, role=Membership.Role.ADMIN)


def activate_tenant(run: ProvisioningRun) -> None:
    tenant_set_status(tenant=run.tenant, status=Tenant.Status.ACTIVE)


ONBOARDING_STEPS: list[tuple[str, Callable[[ProvisioningRun], None]]] = [
    ("apply_tables", apply_tenant_tables),
    ("record_outputs", record_tenant_outputs),
    ("grant_admin", grant_admin_membership),
    ("activate", activate_tenant),
]


def onboarding_run_create(tenant: Tenant) -> ProvisioningRun:
    return ProvisioningRun.objects.create(
        tenant=tenant,
        kind=ProvisioningRun.Kind.ONBOARD,
        steps=[{"name": name, "status": "pending"} for name, _ in ONBOARDING_STEPS],
    )


def _mark_step(run: ProvisioningRun, name: str, status: str, detail: str = "") -> None:
    for step in run.steps:
        if step["name"] == name:
            step.update(status=status, at=timezone.now().isoformat(), detail=detail)
    run.save(update_fields=["steps"])


def run_onboarding(run_id: int) -> ProvisioningRun:
    """Runs the unfinished steps of an onboarding run in order; a finished run returns at once."""
    run = ProvisioningRun.objects.select_related("tenant").get(pk=run_id)
    if run.status == ProvisioningRun.Status.SUCCEEDED:
        return run
    run.status = ProvisioningRun.Status.RUNNING
    run.error = ""
    run.save(update_fields=["status", "error"])
    done = {step["name"] for step in run.steps if step["status"] == "done"}
    for name, step in ONBOARDING_STEPS:
        if name in done:
            continue
        _mark_step(run, name, "running")
        try:
            step(run)
        except Exception as exc:
            logger.exception("onboarding step %s failed for %s", name, run.tenant.slug)
            _mark_step(run, name, "failed", f"{type(exc).__name__}: {exc}")
            with transaction.atomic():
                run.status = ProvisioningRun.Status.FAILED
                run.error = f"{name}: {type(exc).__name__}: {exc}"
                run.finished_at = timezone.now()
                run.save(update_fields=["status", "error", "finished_at"])
                tenant_set_status(tenant=run.tenant, status=Tenant.Status.FAILED, reason=run.error)
            raise
        _mark_step(run, name, "done")
    run.status = ProvisioningRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    return run
