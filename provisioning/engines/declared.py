"""Reads what the tenant program declared: its tables back as TableSpecs, and the rest as records.

The local engine applies the tables the program declares, not the specs it was given, so what
DynamoDB Local gets is what ``pulumi up`` would create. Tests show the two are equal.
"""

from provisioning.engines.evaluation import (
    EVENT_SOURCE_MAPPING_TYPE,
    TABLE_TYPE,
    DeclaredResource,
)
from provisioning.table_specs import IndexSpec, KeyAttribute, TableSpec

ROLE_TAG = "resale:table-role"
DECLARED = "declared"


def _index_spec(index: dict) -> IndexSpec:
    keys = {key["keyType"]: key["attributeName"] for key in index.get("keySchemas", [])}
    return IndexSpec(
        name=index["name"],
        hash_key=keys.get("HASH") or index["hashKey"],
        range_key=keys.get("RANGE") or index.get("rangeKey"),
        projection_type=index["projectionType"],
    )


def table_spec_from_declared(table: DeclaredResource, *, consumed_stream_arns: set[str]) -> TableSpec:
    inputs = table.inputs
    ttl = inputs.get("ttl") or {}
    tags = dict(inputs.get("tags") or {})
    return TableSpec(
        role=tags[ROLE_TAG],
        name=inputs["name"],
        hash_key=inputs["hashKey"],
        range_key=inputs.get("rangeKey"),
        attributes=tuple(
            sorted((KeyAttribute(a["name"], a["type"]) for a in inputs["attributes"]), key=lambda a: a.name)
        ),
        global_secondary_indexes=tuple(
            sorted(
                (_index_spec(index) for index in inputs.get("globalSecondaryIndexes") or []),
                key=lambda index: index.name,
            )
        ),
        stream_view_type=inputs.get("streamViewType") if inputs.get("streamEnabled") else None,
        ttl_attribute=ttl.get("attributeName") if ttl.get("enabled") else None,
        billing_mode=inputs.get("billingMode", "PROVISIONED"),
        point_in_time_recovery=bool((inputs.get("pointInTimeRecovery") or {}).get("enabled")),
        deletion_protection=bool(inputs.get("deletionProtectionEnabled")),
        feeds_history=table.outputs.get("streamArn") in consumed_stream_arns,
        tags=tags,
    )


def table_specs_from_declared(resources: list[DeclaredResource]) -> list[TableSpec]:
    """The declared tables as specs; a table feeds the history when a mapping reads its stream."""
    consumed = {
        resource.inputs.get("eventSourceArn")
        for resource in resources
        if resource.type == EVENT_SOURCE_MAPPING_TYPE
    }
    return [
        table_spec_from_declared(resource, consumed_stream_arns=consumed)
        for resource in resources
        if resource.type == TABLE_TYPE
    ]


def declared_only_records(resources: list[DeclaredResource]) -> list[dict]:
    """Resources with no local counterpart, recorded as declared: never reported as created.

    Tables are applied, but their tags, point-in-time recovery and replicas are not (DynamoDB
    Local drops tags and has no second region), so those are listed here too.
    """
    records = []
    for resource in resources:
        if resource.type == TABLE_TYPE:
            inputs = resource.inputs
            aspects = {
                "tags": inputs.get("tags") or {},
                "point_in_time_recovery": (inputs.get("pointInTimeRecovery") or {}).get("enabled", False),
                "replica_regions": [replica["regionName"] for replica in inputs.get("replicas") or []],
            }
            records.append(
                {"resource": inputs["name"], "type": f"{resource.type} (tags, recovery, replicas)", **aspects}
            )
            continue
        records.append(
            {
                "resource": resource.inputs.get("name") or resource.name,
                "type": resource.type,
                "arn": resource.outputs.get("arn"),
            }
        )
    return [{**record, "action": DECLARED} for record in records]


_OUTPUT_SOURCES = {
    "role_arn": ("aws:iam/role:Role", lambda r: r.outputs.get("arn")),
    "consumer_function": ("aws:lambda/function:Function", lambda r: r.inputs.get("name")),
    "dead_letter_queue_arn": ("aws:sqs/queue:Queue", lambda r: r.outputs.get("arn")),
}


def declared_output(resources: list[DeclaredResource], key: str) -> str | None:
    """A stack output as the program declares it (the ARN it would have in the cell's account)."""
    typ, read = _OUTPUT_SOURCES[key]
    return next((read(resource) for resource in resources if resource.type == typ), None)
