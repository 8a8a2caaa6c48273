"""Onboarding: the steps that take a tenant from ``provisioning`` to ``active``.

place_in_cell -> apply_program (evaluate the tenant program and apply it: plan, then result)
-> check_tables (each table answers a read) -> record_outputs (tables, streams, role ARN in
Tenant.resources: what the data plane routes by and the stream consumer reads) -> grant_admin
-> activate. Each step is idempotent; ``provisioning.workflow`` runs them.
"""

from django.contrib.auth import get_user_model

from provisioning.cells import place_tenant_in_cell
from provisioning.dynamo_apply import wait_until_active
from provisioning.engines.base import program_config
from provisioning.engines.selection import provisioning_engine
from provisioning.errors import TableNotAnswering
from provisioning.models import ProvisioningRun
from provisioning.workflow import Steps, run_all_steps, run_create
from resale.binding import tenant_dynamodb_client
from tenants.actions import do_change_tenant_status, do_grant_membership, do_record_tenant_resources
from tenants.models import Membership, Tenant


def place_in_cell(run: ProvisioningRun) -> None:
    place_tenant_in_cell(tenant=run.tenant)


def _merge_results(previous: list[dict], current: list[dict]) -> list[dict]:
    """A re-run after a crash finds what the killed attempt created unchanged: keep 'created'."""
    earlier = {(entry.get("resource") or entry.get("table")): entry for entry in previous}
    merged = []
    for entry in current:
        before = earlier.get(entry.get("resource") or entry.get("table"))
        if before and entry.get("action") == "unchanged" and before.get("action") in ("created", "changed"):
            entry = before
        merged.append(entry)
    return merged


def apply_program(run: ProvisioningRun) -> None:
    engine = provisioning_engine()
    deployment = engine.deploy(program_config(run.tenant, run.tenant.cell))
    run.engine = engine.name
    if not run.plan:
        run.plan = deployment.plan
    run.result = _merge_results(run.result, deployment.result)
    run.outputs = deployment.outputs


def check_tables(run: ProvisioningRun) -> None:
    """Each table is ACTIVE with its indexes and answers a consistent read."""
    client = tenant_dynamodb_client(run.tenant)
    for role, name in run.outputs["tables"].items():
        try:
            wait_until_active(client, name, timeout=60)
        except TimeoutError as exc:
            raise TableNotAnswering(f"the {role} table {name} is not ACTIVE: {exc}") from exc
        client.scan(TableName=name, Limit=1, ConsistentRead=True)


def record_outputs(run: ProvisioningRun) -> None:
    do_record_tenant_resources(tenant=run.tenant, outputs=run.outputs, run_id=run.pk, engine=run.engine)


def grant_admin(run: ProvisioningRun) -> None:
    tenant = run.tenant
    user, _ = get_user_model().objects.get_or_create(
        username=tenant.admin_email, defaults={"email": tenant.admin_email, "is_active": True}
    )
    if not Membership.objects.filter(tenant=tenant, user=user, role=Membership.Role.ADMIN).exists():
        do_grant_membership(tenant=tenant, user=user, role=Membership.Role.ADMIN)


def activate(run: ProvisioningRun) -> None:
    do_change_tenant_status(tenant=run.tenant, status=Tenant.Status.ACTIVE)


ONBOARDING_STEPS: Steps = [
    ("place_in_cell", place_in_cell),
    ("apply_program", apply_program),
    ("check_tables", check_tables),
    ("record_outputs", record_outputs),
    ("grant_admin", grant_admin),
    ("activate", activate),
]


def onboarding_run_create(tenant: Tenant) -> ProvisioningRun:
    return run_create(tenant=tenant, kind=ProvisioningRun.Kind.ONBOARD, steps=ONBOARDING_STEPS)


def run_onboarding(run_id: int) -> ProvisioningRun:
    """Runs every unfinished onboarding step here and now (tests, fixtures, management use)."""
    return run_all_steps(run_id=run_id, steps=ONBOARDING_STEPS)
