"""The tenant's recorded provisioning outputs: what the data plane routes by."""

from provisioning.dynamo_apply import wait_until_active
from provisioning.table_specs import TableSpec


def table_outputs(client, specs: list[TableSpec]) -> dict:
    """Reads back each table to record its name and stream ARN."""
    tables, streams = {}, {}
    for spec in specs:
        description = wait_until_active(client, spec.name)
        tables[spec.role] = spec.name
        if description.get("LatestStreamArn") and spec.feeds_history:
            streams[spec.role] = description["LatestStreamArn"]
    return {"tables": tables, "streams": streams}
