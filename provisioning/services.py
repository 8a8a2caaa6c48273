"""What the control plane asks of provisioning."""

from django.db import transaction

from provisioning.models import ProvisioningRun
from provisioning.onboarding import onboarding_run_create
from provisioning.tasks import onboard_tenant
from tenants.models import Tenant


def start_onboarding(tenant: Tenant) -> ProvisioningRun:
    """Records an onboarding run and queues it once the current transaction commits."""
    run = onboarding_run_create(tenant)
    transaction.on_commit(lambda: onboard_tenant.delay(run.id))
    return run
