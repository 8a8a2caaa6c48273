"""Offboarding against DynamoDB Local: a verified export of every table, then its tables are gone."""

import itertools
import json
from pathlib import Path

import pytest

from provisioning import offboarding
from provisioning.actions import do_offboard

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


@pytest.fixture
def export_dir(settings, tmp_path):
    settings.OFFBOARDING_EXPORT_DIR = tmp_path / "exports"
    return settings.OFFBOARDING_EXPORT_DIR


def put_listings(ddb, table: str, count: int) -> list[dict]:
    items = [
        {"id": {"S": f"lst-{n:03}"}, "seller_id": {"S": "s-1"}, "price": {"S": "12.50"}, "n": {"N": str(n)}}
        for n in range(count)
    ]
    for item in items:
        ddb.put_item(TableName=table, Item=item)
    return items


def offboard(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = do_offboard(tenant=tenant)
    tenant.refresh_from_db()
    run.refresh_from_db()
    return run


def test_offboarding_exports_every_table_verifies_the_counts_then_deletes_the_tables(
    provisioned_tenant, ddb, export_dir, celery_eager, django_capture_on_commit_callbacks
):
    tenant = provisioned_tenant()
    tables = dict(tenant.resources["tables"])
    ddb = ddb(tenant)
    listings = put_listings(ddb, tables["listings"], 130)
    ddb.put_item(TableName=tables["clicks"], Item={"code": {"S": "c1"}, "clicked_at": {"S": "2026-01-01"}})

    run = offboard(tenant, django_capture_on_commit_callbacks)
    assert run.status == "succeeded", run.error
    assert tenant.status == "offboarded" and tenant.resources == {}
    for name in tables.values():
        with pytest.raises(ddb.exceptions.ResourceNotFoundException):
            ddb.describe_table(TableName=name)
    directory = export_dir / tenant.slug / str(run.pk)
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [f"{role}.jsonl" for role in tables] + ["manifest.json"]
    )
    exported = [json.loads(line) for line in (directory / "listings.jsonl").read_text().splitlines()]
    assert sorted(exported, key=lambda i: i["id"]["S"]) == listings
    manifest = json.loads((directory / "manifest.json").read_text())
    assert {role: entry["verified_items"] for role, entry in manifest["tables"].items()} == {
        "listings": 130,
        "orders": 0,
        "links": 0,
        "clicks": 1,
        "idempotency": 0,
        "history": 0,
    }
    assert {entry["action"] for entry in run.result} == {"deleted"}
    assert tenant.events.filter(action="tenant.offboarded").count() == 1


def late_writer(monkeypatch, table: str, *, times: int):
    """After each export of ``table`` (the first ``times`` of them), a write lands in it."""
    real_export = offboarding._export_table
    written = itertools.count(1)

    def export_then_a_late_write(client, name: str, path: Path) -> dict:
        entry = real_export(client, name, path)
        if name == table and (n := next(written)) <= times:
            client.put_item(TableName=name, Item={"id": {"S": f"late-{n}"}, "seller_id": {"S": "s-2"}})
        return entry

    monkeypatch.setattr(offboarding, "_export_table", export_then_a_late_write)


def test_a_straggling_write_during_the_export_is_caught_and_the_export_taken_again(
    provisioned_tenant, ddb, export_dir, celery_eager, django_capture_on_commit_callbacks, monkeypatch
):
    tenant = provisioned_tenant()
    tables = dict(tenant.resources["tables"])
    ddb = ddb(tenant)
    put_listings(ddb, tables["listings"], 3)
    late_writer(monkeypatch, tables["listings"], times=1)
    run = offboard(tenant, django_capture_on_commit_callbacks)
    assert run.status == "succeeded", run.error
    listed = (export_dir / tenant.slug / str(run.pk) / "listings.jsonl").read_text().splitlines()
    assert len(listed) == 4 and run.outputs["export"]["tables"]["listings"]["verified_items"] == 4


def test_an_export_that_keeps_disagreeing_with_the_table_deletes_nothing_and_a_retry_exports_again(
    provisioned_tenant,
    ddb,
    export_dir,
    celery_eager,
    django_capture_on_commit_callbacks,
    monkeypatch,
    settings,
):
    tenant = provisioned_tenant()
    tables = dict(tenant.resources["tables"])
    ddb = ddb(tenant)
    put_listings(ddb, tables["listings"], 3)
    late_writer(monkeypatch, tables["listings"], times=settings.OFFBOARDING_EXPORT_ATTEMPTS)
    run = offboard(tenant, django_capture_on_commit_callbacks)
    assert run.status == "failed" and tenant.status == "failed"
    assert tenant.failure_reason.startswith("export_tables: ExportMismatch: listings:")
    assert {ddb.describe_table(TableName=name)["Table"]["TableStatus"] for name in tables.values()} == {
        "ACTIVE"
    }
    assert tenant.resources["tables"] == tables

    again = offboard(tenant, django_capture_on_commit_callbacks)  # DELETE again resumes the same run
    assert again.pk == run.pk and again.status == "succeeded", again.error
    assert tenant.status == "offboarded"
    listed = (export_dir / tenant.slug / str(run.pk) / "listings.jsonl").read_text().splitlines()
    assert len(listed) == 3 + settings.OFFBOARDING_EXPORT_ATTEMPTS


def test_offboarding_twice_is_one_offboarding(
    provisioned_tenant, export_dir, celery_eager, django_capture_on_commit_callbacks
):
    tenant = provisioned_tenant()
    first = offboard(tenant, django_capture_on_commit_callbacks)
    second = offboard(tenant, django_capture_on_commit_callbacks)
    assert first.pk == second.pk and tenant.status == "offboarded"
    assert tenant.runs.filter(kind="offboard").count() == 1
