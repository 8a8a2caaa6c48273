"""Drift: what exists for a tenant compared with what the program declares; a rollout repairs it."""

import pytest

from provisioning.dynamo_apply import wait_until_active, wait_until_gone
from resale.binding import tenant_dynamodb_client
from tenants.actions import do_create_tenant

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def statuses(drift: dict) -> dict[str, str]:
    return {resource["name"]: resource["status"] for resource in drift["resources"]}


def test_an_index_deleted_by_hand_shows_as_drifted_and_a_rollout_puts_it_back(
    provisioned_tenant, staff_client, celery_eager, django_capture_on_commit_callbacks
):
    tenant = provisioned_tenant()
    listings = tenant.resources["tables"]["listings"]
    drift = staff_client.get(f"/control/v1/tenants/{tenant.slug}/drift").json()
    assert drift["slug"] == tenant.slug and drift["in_sync"] is True
    assert set(statuses(drift).values()) == {"in_sync"} and len(drift["resources"]) == 6

    client = tenant_dynamodb_client(tenant)
    client.update_table(
        TableName=listings, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_category"}}]
    )
    wait_until_active(client, listings)

    drift = staff_client.get(f"/control/v1/tenants/{tenant.slug}/drift").json()
    assert drift["in_sync"] is False
    (drifted,) = [r for r in drift["resources"] if r["status"] != "in_sync"]
    assert drifted == {
        "type": "aws:dynamodb/table:Table",
        "name": listings,
        "status": "drifted",
        "differences": ["add index by_category"],
    }

    body = {"tenants": [tenant.slug], "canary": 1, "wave_size": 1, "max_parallel": 1, "max_failures": 0}
    with django_capture_on_commit_callbacks(execute=True):
        started = staff_client.post("/control/v1/rollouts", body, format="json")
    assert started.status_code == 202 and started.json()["status"] == "running"
    rollout = staff_client.get(f"/control/v1/rollouts/{started.json()['id']}").json()
    assert rollout["status"] == "succeeded"
    ((entry,),) = [wave["tenants"] for wave in rollout["waves"]]
    assert entry["slug"] == tenant.slug and entry["status"] == "changed"
    planned = {e["table"]: e["changes"] for e in entry["plan"] if "table" in e}
    assert planned[listings] == ["add index by_category"]

    assert staff_client.get(f"/control/v1/tenants/{tenant.slug}/drift").json()["in_sync"] is True


def test_a_table_deleted_by_hand_is_missing_and_a_tenant_without_resources_has_no_drift(
    provisioned_tenant, staff_client, unique_slug
):
    tenant = provisioned_tenant()
    clicks = tenant.resources["tables"]["clicks"]
    client = tenant_dynamodb_client(tenant)
    client.update_table(TableName=clicks, DeletionProtectionEnabled=False)
    wait_until_active(client, clicks)
    client.delete_table(TableName=clicks)
    wait_until_gone(client, clicks)

    drift = staff_client.get(f"/control/v1/tenants/{tenant.slug}/drift").json()
    assert drift["in_sync"] is False and statuses(drift)[clicks] == "missing"
    assert [s for name, s in statuses(drift).items() if name != clicks] == ["in_sync"] * 5

    slug = unique_slug("new")
    do_create_tenant(slug=slug, name="New", tier="standard", admin_email=f"admin@{slug}.example")
    refused = staff_client.get(f"/control/v1/tenants/{slug}/drift")
    assert refused.status_code == 409 and refused["Content-Type"] == "application/problem+json"
    assert staff_client.get("/control/v1/tenants/no-such-tenant/drift").status_code == 404
