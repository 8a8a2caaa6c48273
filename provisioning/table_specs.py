"""Table specifications derived from the PynamoDB models, so schema and infrastructure agree.

The Pulumi program declares ``aws.dynamodb.Table`` resources from these specs and the local
engine applies them with boto3; neither knows a key or an index that the models do not.
"""

from dataclasses import dataclass, field

from django.conf import settings
from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model
from resale.tables import TENANT_TABLE_MODELS


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
    tags: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def tenant_table_name(slug: str, role: str) -> str:
    return f"{settings.TENANT_TABLE_PREFIX}-{slug}-{role}"


def table_spec_from_model(model: type[Model], *, role: str, name: str, tags: dict[str, str]) -> TableSpec:
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
    return TableSpec(
        role=role,
        name=name,
        hash_key=keys["HASH"],
        range_key=keys.get("RANGE"),
        attributes=attributes,
        global_secondary_indexes=indexes,
        stream_view_type=getattr(model.Meta, "stream_view_type", None),
        ttl_attribute=ttl,
        billing_mode=getattr(model.Meta, "billing_mode", "PAY_PER_REQUEST"),
        tags=tags,
    )


def tenant_table_specs(slug: str, tier: str) -> list[TableSpec]:
    tags = {"resale:tenant": slug, "resale:tier": tier, "resale:managed-by": "pulumi"}
    return [
        table_spec_from_model(model, role=role, name=tenant_table_name(slug, role), tags=tags)
        for role, model in TENANT_TABLE_MODELS.items()
    ]
