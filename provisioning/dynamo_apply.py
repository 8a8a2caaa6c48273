"""Applies table specs to a DynamoDB endpoint with boto3: create what is missing, change what
differs (GSIs, streams, TTL, deletion protection), leave what matches, and say which it did.

This is the apply half of the local engine. Every step is idempotent, so a run killed at any
point and run again converges on the spec.
"""

import math
from dataclasses import dataclass, field

from botocore.exceptions import ClientError, WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

from provisioning.table_specs import TableSpec

CREATED, CHANGED, UNCHANGED, DELETED = "created", "changed", "unchanged", "deleted"


@dataclass
class TableChange:
    table: str
    action: str
    changes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"table": self.table, "action": self.action, "changes": self.changes}


def describe_table_or_none(client, name: str) -> dict | None:
    """The table's description, or None when it does not exist."""
    try:
        return client.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def _key_schema(hash_key: str, range_key: str | None) -> list[dict]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _gsi_definition(index) -> dict:
    return {
        "IndexName": index.name,
        "KeySchema": _key_schema(index.hash_key, index.range_key),
        "Projection": {"ProjectionType": index.projection_type},
    }


def _ttl_attribute(client, name: str) -> str | None:
    description = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if description.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
        return description.get("AttributeName")
    return None


WAIT_POLL_SECONDS = 0.2
"""DynamoDB Local settles a table in well under a second; boto3's own waiters poll every 20 s."""

TABLE_SETTLED = WaiterModel(
    {
        "version": 2,
        "waiters": {
            "TableSettled": {
                "operation": "DescribeTable",
                "delay": WAIT_POLL_SECONDS,
                "maxAttempts": 600,
                "acceptors": [
                    {
                        "state": "success",
                        "matcher": "path",
                        "argument": "Table.TableStatus == 'ACTIVE' && length(Table.GlobalSecondaryIndexes"
                        "[?IndexStatus && IndexStatus != 'ACTIVE'] || `[]`) == `0`",
                        "expected": True,
                    },
                    {"state": "retry", "matcher": "error", "expected": "ResourceNotFoundException"},
                ],
            }
        },
    }
)
"""boto3's ``table_exists`` waiter, extended to wait for the table's indexes to be ACTIVE too."""


def _wait(waiter, name: str, timeout: float, what: str) -> None:
    attempts = max(1, math.ceil(timeout / WAIT_POLL_SECONDS))
    try:
        waiter.wait(TableName=name, WaiterConfig={"Delay": WAIT_POLL_SECONDS, "MaxAttempts": attempts})
    except WaiterError as exc:
        raise TimeoutError(f"table {name} {what} in {timeout}s: {exc}") from exc


def wait_until_active(client, name: str, timeout: float = 120) -> dict:
    """Waits for the table and its indexes to be ACTIVE; returns its description."""
    _wait(
        create_waiter_with_client("TableSettled", TABLE_SETTLED, client),
        name,
        timeout,
        "did not become ACTIVE",
    )
    return client.describe_table(TableName=name)["Table"]


def wait_until_gone(client, name: str, timeout: float = 120) -> None:
    _wait(client.get_waiter("table_not_exists"), name, timeout, "was not deleted")


def plan_table(client, spec: TableSpec) -> TableChange:
    """What ``apply_table`` would do, without doing it (like ``pulumi preview``)."""
    table = describe_table_or_none(client, spec.name)
    if table is None:
        return TableChange(spec.name, CREATED, ["table"])
    changes = table_differences(client, spec, table)
    return TableChange(spec.name, CHANGED if changes else UNCHANGED, changes)


def table_differences(client, spec: TableSpec, table: dict) -> list[str]:
    """How an existing table differs from its spec, as changes an apply would make."""
    changes = []
    existing_indexes = {g["IndexName"] for g in table.get("GlobalSecondaryIndexes", [])}
    wanted_indexes = {g.name for g in spec.global_secondary_indexes}
    changes += [f"add index {name}" for name in sorted(wanted_indexes - existing_indexes)]
    changes += [f"remove index {name}" for name in sorted(existing_indexes - wanted_indexes)]
    stream = table.get("StreamSpecification") or {}
    current_stream = stream.get("StreamViewType") if stream.get("StreamEnabled") else None
    if current_stream != spec.stream_view_type:
        changes.append(f"stream {current_stream} -> {spec.stream_view_type}")
    if _ttl_attribute(client, spec.name) != spec.ttl_attribute:
        changes.append(f"ttl -> {spec.ttl_attribute}")
    if bool(table.get("DeletionProtectionEnabled")) != spec.deletion_protection:
        changes.append(f"deletion protection -> {spec.deletion_protection}")
    return changes


def apply_table(client, spec: TableSpec) -> TableChange:
    """Converges one table on its spec and reports what it changed."""
    table = describe_table_or_none(client, spec.name)
    if table is None:
        _create(client, spec)
        change = TableChange(spec.name, CREATED, ["table"])
        table = wait_until_active(client, spec.name)
        change.changes += _converge(client, spec, table)
        return change
    table = wait_until_active(client, spec.name)
    changes = _converge(client, spec, table)
    return TableChange(spec.name, CHANGED if changes else UNCHANGED, changes)


def _create(client, spec: TableSpec) -> None:
    kwargs = {
        "TableName": spec.name,
        "KeySchema": _key_schema(spec.hash_key, spec.range_key),
        "AttributeDefinitions": [{"AttributeName": a.name, "AttributeType": a.type} for a in spec.attributes],
        "BillingMode": spec.billing_mode,
        "DeletionProtectionEnabled": spec.deletion_protection,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(spec.tags.items())],
    }
    if spec.global_secondary_indexes:
        kwargs["GlobalSecondaryIndexes"] = [_gsi_definition(g) for g in spec.global_secondary_indexes]
    if spec.stream_view_type:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream_view_type}
    try:
        client.create_table(**kwargs)
    except ClientError as exc:
        # A concurrent or earlier, killed run created it first: converge from here.
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise


def _converge(client, spec: TableSpec, table: dict) -> list[str]:
    changes = []
    existing = {g["IndexName"] for g in table.get("GlobalSecondaryIndexes", [])}
    wanted = {g.name: g for g in spec.global_secondary_indexes}
    attribute_definitions = [{"AttributeName": a.name, "AttributeType": a.type} for a in spec.attributes]
    for name in sorted(set(wanted) - existing):
        client.update_table(
            TableName=spec.name,
            AttributeDefinitions=attribute_definitions,
            GlobalSecondaryIndexUpdates=[{"Create": _gsi_definition(wanted[name])}],
        )
        wait_until_active(client, spec.name)
        changes.append(f"add index {name}")
    for name in sorted(existing - set(wanted)):
        client.update_table(
            TableName=spec.name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": name}}]
        )
        wait_until_active(client, spec.name)
        changes.append(f"remove index {name}")

    stream = table.get("StreamSpecification") or {}
    current_stream = stream.get("StreamViewType") if stream.get("StreamEnabled") else None
    if current_stream != spec.stream_view_type:
        if current_stream:
            client.update_table(TableName=spec.name, StreamSpecification={"StreamEnabled": False})
            wait_until_active(client, spec.name)
        if spec.stream_view_type:
            client.update_table(
                TableName=spec.name,
                StreamSpecification={"StreamEnabled": True, "StreamViewType": spec.stream_view_type},
            )
            wait_until_active(client, spec.name)
        changes.append(f"stream {current_stream} -> {spec.stream_view_type}")

    current_ttl = _ttl_attribute(client, spec.name)
    if current_ttl != spec.ttl_attribute:
        if current_ttl:
            client.update_time_to_live(
                TableName=spec.name, TimeToLiveSpecification={"Enabled": False, "AttributeName": current_ttl}
            )
        if spec.ttl_attribute:
            client.update_time_to_live(
                TableName=spec.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
        changes.append(f"ttl {current_ttl} -> {spec.ttl_attribute}")

    if bool(table.get("DeletionProtectionEnabled")) != spec.deletion_protection:
        client.update_table(TableName=spec.name, DeletionProtectionEnabled=spec.deletion_protection)
        wait_until_active(client, spec.name)
        changes.append(f"deletion protection -> {spec.deletion_protection}")
    return changes


def delete_table(client, name: str) -> TableChange:
    """Deletes a table, lifting its deletion protection first; a table already gone is fine."""
    table = describe_table_or_none(client, name)
    if table is None:
        return TableChange(name, UNCHANGED, ["already absent"])
    if table.get("DeletionProtectionEnabled"):
        client.update_table(TableName=name, DeletionProtectionEnabled=False)
        wait_until_active(client, name)
    try:
        client.delete_table(TableName=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    return TableChange(name, DELETED, ["table"])
