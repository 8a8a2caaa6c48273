"""What every engine does, and the tenant program's config for one tenant."""

from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings

from provisioning.engines.evaluation import ProgramConfig
from tenants.models import Cell, Tenant
from tenants.tiers import tier_policy


@dataclass
class Deployment:
    """One ``up``: the plan (like ``pulumi preview``), the result, and the stack's outputs."""

    plan: list[dict]
    result: list[dict]
    outputs: dict = field(default_factory=dict)


class Engine(Protocol):
    name: str

    def preview(self, config: ProgramConfig) -> list[dict]:
        """What ``deploy`` would change, changing nothing (``pulumi preview``)."""

    def deploy(self, config: ProgramConfig) -> Deployment: ...

    def destroy(self, config: ProgramConfig, *, table_names: list[str]) -> list[dict]: ...


def program_config(
    tenant: Tenant, cell: Cell, *, deletion_protection: bool = True, tier: str | None = None
) -> ProgramConfig:
    """The stack config of ``tenant-<slug>``, from the registry and settings; ``tier`` overrides
    the tenant's own (a tier change applies the program for the tier it moves to)."""
    tier = tier or tenant.tier
    return ProgramConfig(
        slug=tenant.slug,
        tier=tier,
        region=cell.region,
        consumer_handler=settings.STREAM_CONSUMER_LAMBDA_HANDLER,
        table_prefix=settings.TENANT_TABLE_PREFIX,
        replica_region=settings.PREMIUM_REPLICA_REGION if tier_policy(tier).global_tables else None,
        deletion_protection=deletion_protection,
        trusted_principals=tuple(settings.TENANT_ROLE_TRUSTED_PRINCIPALS),
        account_id=cell.aws_account_id or ProgramConfig.account_id,
    )
