"""Drift: what exists for a tenant, compared with what the tenant program declares for it now.

The program is evaluated for the tenant's tier (the same evaluation the local engine applies),
and each declared table is described: missing, or drifted with the changes an apply would make
(indexes, stream, TTL, deletion protection), or in sync. Any run of the program repairs what it
finds (a rollout, a tier change). IAM, Lambda and SQS are declared only locally: not compared.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from provisioning.dynamo_apply import describe_table_or_none, table_differences
from provisioning.engines.base import program_config
from provisioning.engines.declared import table_specs_from_declared
from provisioning.engines.evaluation import TABLE_TYPE, evaluate_program
from provisioning.errors import TenantNotProvisioned
from resale.binding import tenant_dynamodb_client
from tenants.models import Tenant

IN_SYNC, DRIFTED, MISSING = "in_sync", "drifted", "missing"
DRIFT_CHECKED_STATUSES = (Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED, Tenant.Status.FAILED)


@dataclass(frozen=True)
class ResourceDrift:
    type: str
    name: str
    status: str
    differences: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TenantDrift:
    slug: str
    checked_at: datetime
    resources: list[ResourceDrift]

    @property
    def in_sync(self) -> bool:
        return all(resource.status == IN_SYNC for resource in self.resources)


def tenant_drift(*, tenant: Tenant) -> TenantDrift:
    """Compares the tenant's tables with the program's declaration. Reads only."""
    if tenant.cell is None or tenant.status not in DRIFT_CHECKED_STATUSES:
        raise TenantNotProvisioned(
            f"Tenant {tenant.slug} is {tenant.status}: it has no resources to compare."
        )
    declared = evaluate_program(
        program_config(tenant, tenant.cell), timeout=settings.PROVISIONING_EVALUATION_TIMEOUT
    )
    client = tenant_dynamodb_client(tenant)
    resources = []
    for spec in table_specs_from_declared(declared):
        table = describe_table_or_none(client, spec.name)
        if table is None:
            resources.append(ResourceDrift(TABLE_TYPE, spec.name, MISSING, ["table does not exist"]))
            continue
        differences = table_differences(client, spec, table)
        resources.append(
            ResourceDrift(TABLE_TYPE, spec.name, DRIFTED if differences else IN_SYNC, differences)
        )
    return TenantDrift(slug=tenant.slug, checked_at=timezone.now(), resources=resources)
