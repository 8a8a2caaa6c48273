"""Onboarding against DynamoDB Local: the promised tables, idempotent re-runs, changes, recovery."""

import pytest
from django.contrib.auth import get_user_model

from provisioning import onboarding
from provisioning.actions import do_retry_failed_run, do_start_onboarding
from provisioning.models import ProvisioningRun
from provisioning.onboarding import ONBOARDING_STEPS, onboarding_run_create, run_onboarding
from resale.binding import tenant_dynamodb_client
from tenants.actions import do_create_tenant
from tenants.models import Membership, Tenant, TenantEvent
from tests.program_changes import NEW_INDEX_SITECUSTOMIZE
from tests.table_roles import HISTORY_FEEDING_ROLES, TABLE_ROLES

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def keys(table: dict) -> dict[str, str]:
    return {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}


def indexes(table: dict) -> dict[str, dict[str, str]]:
    return {g["IndexName"]: keys(g) for g in table.get("GlobalSecondaryIndexes", [])}


def test_two_tenants_get_exactly_their_own_tables_with_the_promised_keys_indexes_streams_and_ttl(
    provisioned_tenant, ddb, tenant_tables_in_dynamodb
):
    one, two = provisioned_tenant(), provisioned_tenant()
    for tenant in (one, two):
        assert tenant.status == "active"
        assert tenant_tables_in_dynamodb(tenant.slug) == {
            f"resale-{tenant.slug}-{role}" for role in TABLE_ROLES
        }
        assert tenant.resources["tables"] == {role: f"resale-{tenant.slug}-{role}" for role in TABLE_ROLES}
        tables = {
            role: ddb(tenant).describe_table(TableName=name)["Table"]
            for role, name in tenant.resources["tables"].items()
        }
        assert keys(tables["listings"]) == {"id": "HASH"}
        assert indexes(tables["listings"]) == {
            "by_seller": {"seller_id": "HASH", "created_at": "RANGE"},
            "by_status": {"status": "HASH", "created_at": "RANGE"},
            "by_category": {"category": "HASH", "created_at": "RANGE"},
        }
        assert keys(tables["orders"]) == {"id": "HASH"}
        assert indexes(tables["orders"]) == {
            "by_buyer": {"buyer_id": "HASH", "created_at": "RANGE"},
            "by_status": {"status": "HASH", "updated_at": "RANGE"},
        }
        assert keys(tables["clicks"]) == {"code": "HASH", "clicked_at": "RANGE"}
        assert keys(tables["history"]) == {"chain": "HASH", "seq": "RANGE"}
        for role, table in tables.items():
            stream = table.get("StreamSpecification")
            if role in HISTORY_FEEDING_ROLES:
                assert stream == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            else:
                assert stream is None
            assert table["DeletionProtectionEnabled"] is True
            assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
            ttl = ddb(tenant).describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
            if role in ("clicks", "idempotency"):
                assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
            else:
                assert ttl["TimeToLiveStatus"] == "DISABLED"
        assert tenant.resources["streams"] == {
            role: tables[role]["LatestStreamArn"] for role in HISTORY_FEEDING_ROLES
        }
        assert tenant.resources["role_arn"].endswith(f":role/resale-{tenant.slug}-data")
        assert tenant.resources["engine"] == "local"
        assert "role_arn" in tenant.resources["declared_only"]
        assert tenant.resources["cell"] == tenant.cell.name
        assert tenant.memberships.get().role == Membership.Role.ADMIN
    assert not set(one.resources["tables"].values()) & set(two.resources["tables"].values())


def test_the_run_records_a_plan_and_a_result_and_declared_resources_are_never_reported_created(
    provisioned_tenant,
):
    tenant = provisioned_tenant()
    run = tenant.runs.get()
    assert run.status == "succeeded" and run.progress == 100 and run.engine == "local"
    assert [step["name"] for step in run.steps] == [name for name, _ in ONBOARDING_STEPS]
    tables = {entry["table"]: entry["action"] for entry in run.result if "table" in entry}
    assert tables == {f"resale-{tenant.slug}-{role}": "created" for role in TABLE_ROLES}
    assert {entry["action"] for entry in run.plan if "table" in entry} == {"created"}
    declared = [entry for entry in run.result if "table" not in entry]
    assert declared and {entry["action"] for entry in declared} == {"declared"}
    assert any(entry["type"] == "aws:lambda/eventSourceMapping:EventSourceMapping" for entry in declared)


def test_onboarding_again_changes_nothing(provisioned_tenant, tenant_tables_in_dynamodb):
    tenant = provisioned_tenant()
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.PROVISIONING)
    run = run_onboarding(onboarding_run_create(tenant).id)
    assert run.status == "succeeded"
    assert {entry["action"] for entry in run.plan if "table" in entry} == {"unchanged"}
    assert {entry["action"] for entry in run.result if "table" in entry} == {"unchanged"}
    assert len(tenant_tables_in_dynamodb(tenant.slug)) == 6
    assert Membership.objects.filter(tenant=tenant).count() == 1


def test_a_premium_tenant_streams_every_table_for_its_replicas_but_only_model_streams_feed_the_history(
    provisioned_tenant, ddb
):
    tenant = provisioned_tenant(tier="premium")
    for name in tenant.resources["tables"].values():
        stream = ddb(tenant).describe_table(TableName=name)["Table"]["StreamSpecification"]
        assert stream == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert set(tenant.resources["streams"]) == HISTORY_FEEDING_ROLES
    replicas = [
        e for e in tenant.runs.get().result if e.get("type", "").startswith("aws:dynamodb/table:Table (")
    ]
    assert {tuple(e["replica_regions"]) for e in replicas} == {("us-west-2",)}
    assert {e["action"] for e in replicas} == {"declared"}


def test_a_new_index_in_a_model_is_planned_and_applied_as_a_change(
    own_dynamodb_local, provisioned_tenant, program_change
):
    tenant = provisioned_tenant()
    program_change(NEW_INDEX_SITECUSTOMIZE)
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.PROVISIONING)
    run = run_onboarding(onboarding_run_create(tenant).id)
    assert run.status == "succeeded", run.error
    orders = f"resale-{tenant.slug}-orders"
    planned = {entry["table"]: entry for entry in run.plan if "table" in entry}
    assert planned[orders]["action"] == "changed" and planned[orders]["changes"] == ["add index by_listing"]
    assert {entry["action"] for table, entry in planned.items() if table != orders} == {"unchanged"}
    applied = {entry["table"]: entry for entry in run.result if "table" in entry}
    assert applied[orders]["action"] == "changed"
    described = tenant_dynamodb_client(tenant).describe_table(TableName=orders)["Table"]
    assert set(indexes(described)) == {"by_buyer", "by_status", "by_listing"}


def test_a_step_that_fails_fails_the_tenant_with_the_reason_and_a_retry_finishes_without_duplicates(
    dynamodb_local,
    unique_slug,
    request,
    celery_eager,
    django_capture_on_commit_callbacks,
    tenant_tables_in_dynamodb,
):
    crashes = []

    def check_tables_crashing_once(run):
        if not crashes:
            crashes.append(run.pk)
            raise RuntimeError("simulated crash while checking the tables")
        onboarding.check_tables(run)

    index = [name for name, _ in ONBOARDING_STEPS].index("check_tables")
    original = ONBOARDING_STEPS[index]
    ONBOARDING_STEPS[index] = ("check_tables", check_tables_crashing_once)
    request.addfinalizer(lambda: ONBOARDING_STEPS.__setitem__(index, original))
    slug = unique_slug("crash")
    with django_capture_on_commit_callbacks(execute=True):
        tenant = do_create_tenant(
            slug=slug, name="Crash", tier="standard", admin_email=f"admin@{slug}.example"
        )
        do_start_onboarding(tenant=tenant)
    tenant.refresh_from_db()
    assert tenant.status == "failed"
    assert tenant.failure_reason == "check_tables: RuntimeError: simulated crash while checking the tables"
    run = tenant.runs.get()
    assert run.status == "failed"
    assert [s["status"] for s in run.steps] == ["done", "done", "failed", "pending", "pending", "pending"]
    done_at = {s["name"]: s["at"] for s in run.steps if s["status"] == "done"}

    with django_capture_on_commit_callbacks(execute=True):
        do_retry_failed_run(tenant=tenant)
    tenant.refresh_from_db()
    run.refresh_from_db()
    assert tenant.status == "active" and tenant.failure_reason == ""
    assert run.status == "succeeded" and ProvisioningRun.objects.filter(tenant=tenant).count() == 1
    assert {s["name"]: s["at"] for s in run.steps if s["name"] in done_at} == done_at  # not run again
    assert len(tenant_tables_in_dynamodb(slug)) == 6
    assert Membership.objects.filter(tenant=tenant).count() == 1
    assert get_user_model().objects.filter(username=tenant.admin_email).count() == 1
    assert TenantEvent.objects.filter(tenant=tenant, action="tenant.active").count() == 1


def test_retrying_a_tenant_with_nothing_failed_is_refused(provisioned_tenant):
    from provisioning.errors import NothingToRetry

    with pytest.raises(NothingToRetry):
        do_retry_failed_run(tenant=provisioned_tenant())


def test_a_held_stack_lock_is_retried_by_the_task_and_never_fails_the_tenant(
    dynamodb_local, unique_slug, request, celery_eager, django_capture_on_commit_callbacks
):
    from provisioning.engines.automation import StackLocked

    locked_once = []

    def apply_program_finding_the_stack_locked_once(run):
        if not locked_once:
            locked_once.append(run.pk)
            raise StackLocked("error: [409] Conflict: Another update is currently in progress.")
        onboarding.apply_program(run)

    index = [name for name, _ in ONBOARDING_STEPS].index("apply_program")
    original = ONBOARDING_STEPS[index]
    ONBOARDING_STEPS[index] = ("apply_program", apply_program_finding_the_stack_locked_once)
    request.addfinalizer(lambda: ONBOARDING_STEPS.__setitem__(index, original))
    # Eager tasks retry inline only when errors do not propagate, as on a worker.
    propagates = celery_eager.conf.task_eager_propagates
    celery_eager.conf.task_eager_propagates = False
    request.addfinalizer(lambda: setattr(celery_eager.conf, "task_eager_propagates", propagates))
    slug = unique_slug("locked")
    with django_capture_on_commit_callbacks(execute=True):
        tenant = do_create_tenant(
            slug=slug, name="Locked", tier="standard", admin_email=f"admin@{slug}.example"
        )
        do_start_onboarding(tenant=tenant)
    tenant.refresh_from_db()
    run = tenant.runs.get()
    assert locked_once == [run.pk]
    assert tenant.status == "active" and tenant.failure_reason == ""
    assert run.status == "succeeded" and not TenantEvent.objects.filter(tenant=tenant, action="tenant.failed")
