"""Tenants onboarded in-process (Django set up, no worker) the way the control plane onboards them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchTenant:
    slug: str
    key: str
    """Its API key, with the scopes it was onboarded with."""
    tables: dict[str, str]
    """Table names by role, from its provisioning outputs."""


def onboarded_tenant(slug: str, tier: str):
    """Creates ``slug`` and runs its onboarding to the end; returns its registry record."""
    from provisioning.onboarding import onboarding_run_create, run_onboarding
    from tenants.actions import do_create_tenant

    tenant = do_create_tenant(slug=slug, name=slug, tier=tier, admin_email=f"a@{slug}.example")
    run_onboarding(onboarding_run_create(tenant).id)
    tenant.refresh_from_db()
    return tenant


def onboard_tenant(slug: str, tier: str, scopes: list[str]) -> BenchTenant:
    """An onboarded tenant with an API key of ``scopes``."""
    from tenants.actions import do_issue_api_key

    tenant = onboarded_tenant(slug, tier)
    key = do_issue_api_key(tenant=tenant, name="bench", scopes=scopes).key
    return BenchTenant(slug=slug, key=key, tables=tenant.resources["tables"])
