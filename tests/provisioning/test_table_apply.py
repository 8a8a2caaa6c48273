import pytest

from provisioning.dynamo_apply import CHANGED, CREATED, UNCHANGED, apply_table, plan_table
from provisioning.table_specs import IndexSpec, KeyAttribute, tenant_table_specs
from tests.table_roles import HISTORY_FEEDING_ROLES, TABLE_ROLES

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def test_applying_specs_twice_creates_then_changes_nothing(ddb, unique_slug):
    slug = unique_slug()
    specs = tenant_table_specs(slug, "standard")
    ddb = ddb(slug)
    assert {apply_table(ddb, spec).action for spec in specs} == {CREATED}
    assert {apply_table(ddb, spec).action for spec in specs} == {UNCHANGED}


def test_created_tables_have_the_keys_indexes_streams_and_ttl_of_the_models(ddb, unique_slug):
    slug = unique_slug()
    specs = {spec.role: spec for spec in tenant_table_specs(slug, "standard")}
    ddb = ddb(slug)
    for spec in specs.values():
        apply_table(ddb, spec)
    listings = ddb.describe_table(TableName=specs["listings"].name)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in listings["KeySchema"]} == {"id": "HASH"}
    assert {g["IndexName"] for g in listings["GlobalSecondaryIndexes"]} == {
        "by_seller",
        "by_status",
        "by_category",
    }
    assert listings["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    clicks_ttl = ddb.describe_time_to_live(TableName=specs["clicks"].name)["TimeToLiveDescription"]
    assert clicks_ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    history = ddb.describe_table(TableName=specs["history"].name)["Table"]
    assert "StreamSpecification" not in history


def test_a_new_index_in_the_model_is_planned_and_applied_as_a_change(ddb, unique_slug):
    slug = unique_slug()
    ddb = ddb(slug)
    spec = next(s for s in tenant_table_specs(slug, "standard") if s.role == "orders")
    apply_table(ddb, spec)
    changed = type(spec)(
        **{
            **spec.__dict__,
            "attributes": spec.attributes + (KeyAttribute("listing_id", "S"),),
            "global_secondary_indexes": spec.global_secondary_indexes
            + (IndexSpec("by_listing", "listing_id", "created_at"),),
        },
    )
    assert plan_table(ddb, changed).action == CHANGED
    result = apply_table(ddb, changed)
    assert result.action == CHANGED and result.changes == ["add index by_listing"]
    indexes = ddb.describe_table(TableName=spec.name)["Table"]["GlobalSecondaryIndexes"]
    assert {g["IndexName"] for g in indexes} == {"by_buyer", "by_status", "by_listing"}


def test_onboarding_records_the_tables_and_streams_the_data_plane_routes_by(provisioned_tenant):
    tenant = provisioned_tenant()
    assert tenant.status == "active"
    assert set(tenant.resources["tables"]) == TABLE_ROLES
    assert set(tenant.resources["streams"]) == HISTORY_FEEDING_ROLES
    assert tenant.memberships.get().role == "admin"
