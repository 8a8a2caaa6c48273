"""Table specifications derived from the PynamoDB models, so schema and infrastructure agree.

The Pulumi program declares ``aws.dynamodb.Table`` resources from these specs and the local
engine applies them with boto3; neither knows a key or an index that the models do not.
"""

from dataclasses import dataclass, field

from django.conf import settings
from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from resale.tables import NEW_AND_OLD_IMAGES, TENANT_TABLE_MODELS
from tenants.tiers import tier_policy


@dataclass(frozen=True)
class KeyAttribute:
    name: str
    type: str  # "S" | "N" | "B"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: str
    range_key: str | None
    projection_type: str = "ALL"


@dataclass(frozen=True)
class TableSpec:
    role: str
    name: str
    hash_key: str
    range_key: str | None
    attributes: tuple[KeyAttribute, ...]
    global_secondary_indexes: tuple[IndexSpec, ...] = ()
    stream_view_type: str | None = None
    ttl_attribute: str | None = None
    billing_mode: str = "PAY_PER_REQUEST"
    point_in_time_recovery: bool = True
    deletion_protection: bool = True
    feeds_history: bool = False
    """Whether the table's stream feeds the stream consumers (history, search, webhooks)."""
    tags: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def tenant_table_name(slug: str, role: str, *, prefix: str | None = None) -> str:
    return f"{prefix or settings.TENANT_TABLE_PREFIX}-{slug}-{role}"


def table_spec_from_model(
    model: type[Model], *, role: str, name: str, tags: dict[str, str], replicated: bool = False
) -> TableSpec:
    """The table a model describes. A replicated (global) table has a NEW_AND_OLD_IMAGES stream
    whatever the model says, because DynamoDB global tables replicate through it; only a stream
    the model asks for feeds the consumers (``feeds_history``)."""
    schema = model._get_schema()
    keys = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
    indexes = tuple(
        IndexSpec(
            name=gsi["index_name"],
            hash_key=next(k["AttributeName"] for k in gsi["key_schema"] if k["KeyType"] == "HASH"),
            range_key=next((k["AttributeName"] for k in gsi["key_schema"] if k["KeyType"] == "RANGE"), None),
            projection_type=gsi["projection"]["ProjectionType"],
        )
        for gsi in sorted(schema["global_secondary_indexes"], key=lambda g: g["index_name"])
    )
    ttl = next((a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)), None)
    attributes = tuple(
        sorted(
            {KeyAttribute(a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]},
            key=lambda a: a.name,
        )
    )
    model_stream = getattr(model.Meta, "stream_view_type", None)
    return TableSpec(
        role=role,
        name=name,
        hash_key=keys["HASH"],
        range_key=keys.get("RANGE"),
        attributes=attributes,
        global_secondary_indexes=indexes,
        stream_view_type=NEW_AND_OLD_IMAGES if replicated else model_stream,
        ttl_attribute=ttl,
        billing_mode=getattr(model.Meta, "billing_mode", "PAY_PER_REQUEST"),
        feeds_history=model_stream is not None,
        tags=tags,
    )


def tenant_table_specs(slug: str, tier: str, *, prefix: str | None = None) -> list[TableSpec]:
    """Every table of one tenant. ``prefix`` defaults to the setting; the Pulumi program passes
    its stack config instead, so it runs without Django settings."""
    tags = {"resale:tenant": slug, "resale:tier": tier, "resale:managed-by": "pulumi"}
    replicated = tier_policy(tier).global_tables
    return [
        table_spec_from_model(
            model,
            role=role,
            name=tenant_table_name(slug, role, prefix=prefix),
            tags={**tags, "resale:table-role": role},
            replicated=replicated,
        )
        for role, model in TENANT_TABLE_MODELS.items()
    ]
