from django.db.models import QuerySet

from provisioning.models import ProvisioningRun
from tenants.models import Tenant


def tenant_runs(tenant: Tenant) -> QuerySet[ProvisioningRun]:
    return ProvisioningRun.objects.filter(tenant=tenant).order_by("-created_at", "-id")
