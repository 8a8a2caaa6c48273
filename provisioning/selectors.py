from dataclasses import dataclass
from itertools import groupby

from django.db.models import QuerySet

from provisioning.models import ProvisioningRun, Rollout, RolloutTenant
from tenants.models import Tenant


def tenant_runs(tenant: Tenant) -> QuerySet[ProvisioningRun]:
    return ProvisioningRun.objects.filter(tenant=tenant).order_by("-created_at", "-id")


@dataclass(frozen=True)
class Wave:
    number: int
    tenants: list[RolloutTenant]


def rollout_list() -> QuerySet[Rollout]:
    return Rollout.objects.order_by("-created_at", "-id")


def rollout_waves(rollout: Rollout) -> list[Wave]:
    """The rollout's tenants by wave, in the order they are applied."""
    entries = rollout.tenants.select_related("tenant").order_by("wave", "position")
    return [Wave(number, list(group)) for number, group in groupby(entries, key=lambda entry: entry.wave)]
