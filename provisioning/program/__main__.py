"""The tenant program: reads the stack's config and declares one TenantStack.

An operator runs it with ``pulumi up --stack tenant-<slug>`` (config: slug, tier, consumerHandler,
replicaRegion for premium; optional tablePrefix, trustedPrincipals, deletionProtection); the engines in
``provisioning.engines`` run the same file.
"""

from pathlib import Path

import pulumi

from provisioning.program.consumer_archive import CONSUMER_RUNTIME, consumer_archive
from provisioning.program.tenant_stack import TenantStack, TenantStackArgs
from provisioning.table_specs import tenant_table_specs

config = pulumi.Config()
slug = config.require("slug")
tier = config.require("tier")
prefix = config.get("tablePrefix") or "resale"

tenant = TenantStack(
    f"tenant-{slug}",
    TenantStackArgs(
        slug=slug,
        tier=tier,
        tables=tenant_table_specs(slug, tier, prefix=prefix),
        resource_prefix=prefix,
        consumer_handler=config.require("consumerHandler"),
        consumer_code=consumer_archive(Path(__file__).resolve().parents[2] / "platform"),
        consumer_runtime=CONSUMER_RUNTIME,
        replica_region=config.get("replicaRegion") or None,
        deletion_protection=config.get_bool("deletionProtection") is not False,
        trusted_principal_arns=tuple(config.get_object("trustedPrincipals") or ()),
    ),
)

pulumi.export("tables", tenant.storage.table_names)
pulumi.export("streams", tenant.storage.stream_arns)
pulumi.export("role_arn", tenant.access.role.arn)
pulumi.export("consumer_function", tenant.consumers.function.name)
pulumi.export("dead_letter_queue_arn", tenant.consumers.dead_letter_queue.arn)
pulumi.export("effects_queue_url", tenant.consumers.effects_queue.url)
pulumi.export("effects_dead_letter_queue_arn", tenant.consumers.effects_dead_letter_queue.arn)
