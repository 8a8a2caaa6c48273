"""A tier change is a run of the same program and engine on a live tenant: premium adds what
premium declares, standard takes it away, quotas and flags follow, and the tenant serves throughout."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from provisioning.models import ProvisioningRun
from provisioning.updates import run_update, update_run_create
from resale.binding import tenant_dynamodb_client
from resale.tenancy import forget_tenant_routes, tenant_route
from tenants.actions import do_issue_api_key

pytestmark = [pytest.mark.ddblocal]

UNSTREAMED_IN_STANDARD = ("idempotency", "history")


def stream_of(tenant, table: str) -> str | None:
    spec = (
        tenant_dynamodb_client(tenant).describe_table(TableName=table)["Table"].get("StreamSpecification")
        or {}
    )
    return spec.get("StreamViewType") if spec.get("StreamEnabled") else None


def storefront(tenant) -> APIClient:
    client = APIClient()
    key = do_issue_api_key(tenant=tenant, name="storefront", scopes=["read", "write"]).key
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def listing(n: int) -> dict:
    return {
        "seller_id": "seller-1",
        "title": f"Jacket {n}",
        "category": "clothing",
        "condition": "good",
        "price": "45.00",
        "currency": "EUR",
        "attributes": {},
    }


def change_tier_under_traffic(tenant, tier: str, client: APIClient) -> tuple[ProvisioningRun, list[int]]:
    """Runs the tier change in a thread while the storefront writes and reads; returns the codes."""
    run = update_run_create(tenant=tenant, tier=tier)

    def apply() -> None:
        try:
            run_update(run_id=run.pk)
        finally:
            connection.close()

    applying = threading.Thread(target=apply)
    applying.start()
    codes = []
    while applying.is_alive() or not codes:
        created = client.post("/api/v1/listings", listing(len(codes)), format="json")
        codes.append(created.status_code)
        if created.status_code == 201:
            codes.append(client.get(f"/api/v1/listings/{created.json()['id']}").status_code)
    applying.join()
    run.refresh_from_db()
    return run, codes


@pytest.mark.django_db(transaction=True)
def test_premium_upgrade_then_downgrade_apply_the_program_while_the_storefront_keeps_working(
    provisioned_tenant, settings
):
    settings.RATELIMIT_ENABLED = False
    tenant = provisioned_tenant(tier="standard")
    client = storefront(tenant)
    tables = tenant.resources["tables"]
    assert {stream_of(tenant, tables[role]) for role in UNSTREAMED_IN_STANDARD} == {None}

    run, codes = change_tier_under_traffic(tenant, "premium", client)
    assert run.status == "succeeded", run.error
    assert set(codes) <= {200, 201} and len(codes) > 2, codes
    tenant.refresh_from_db()
    assert tenant.tier == "premium" and tenant.status == "active"
    assert {stream_of(tenant, name) for name in tables.values()} == {"NEW_AND_OLD_IMAGES"}
    replicas = {tuple(e["replica_regions"]) for e in run.result if "replica_regions" in e}
    assert replicas == {("us-west-2",)}
    forget_tenant_routes()
    policy = tenant_route(tenant.slug).policy
    assert policy.custom_attribute_schema and policy.requests_per_second == 500

    run, codes = change_tier_under_traffic(tenant, "standard", client)
    assert run.status == "succeeded", run.error
    assert set(codes) <= {200, 201} and len(codes) > 2, codes
    tenant.refresh_from_db()
    assert tenant.tier == "standard"
    assert {stream_of(tenant, tables[role]) for role in UNSTREAMED_IN_STANDARD} == {None}
    assert stream_of(tenant, tables["listings"]) == "NEW_AND_OLD_IMAGES"
    assert {tuple(e["replica_regions"]) for e in run.result if "replica_regions" in e} == {()}
    assert tenant.events.filter(action="tenant.tier_changed").count() == 2
    forget_tenant_routes()
    assert not tenant_route(tenant.slug).policy.custom_attribute_schema


@pytest.mark.django_db
def test_patch_answers_202_with_the_run_and_409_while_another_run_of_the_tenant_is_in_progress(
    provisioned_tenant, staff_client, celery_eager, django_capture_on_commit_callbacks
):
    tenant = provisioned_tenant()
    with django_capture_on_commit_callbacks(execute=True):
        changed = staff_client.patch(f"/control/v1/tenants/{tenant.slug}", {"tier": "premium"}, format="json")
    assert changed.status_code == 202 and changed.json()["kind"] == "update"
    tenant.refresh_from_db()
    assert tenant.tier == "premium" and tenant.runs.get(pk=changed.json()["id"]).status == "succeeded"

    in_progress = update_run_create(tenant=tenant, tier="standard")
    refused = staff_client.patch(f"/control/v1/tenants/{tenant.slug}", {"tier": "standard"}, format="json")
    assert refused.status_code == 409 and refused["Content-Type"] == "application/problem+json"
    assert f"Run {in_progress.pk} (update)" in refused.json()["detail"]
    offboard = staff_client.delete(f"/control/v1/tenants/{tenant.slug}")
    assert offboard.status_code == 409

    bad = staff_client.patch(f"/control/v1/tenants/{tenant.slug}", {"tier": "gold"}, format="json")
    assert bad.status_code == 400 and "tier" in bad.json()["errors"]
