"""Cells: every tenant is placed in a cell with room for its tables, or refused with the reason."""

import threading

import pytest
from django.db import connection

from provisioning.cells import place_tenant_in_cell, tables_per_tenant
from provisioning.onboarding import onboarding_run_create, run_onboarding
from tenants.actions import do_create_tenant
from tenants.errors import NoCellCapacity
from tenants.models import Cell, Tenant


def make_tenant(slug: str) -> Tenant:
    return do_create_tenant(slug=slug, name=slug, tier="standard", admin_email=f"admin@{slug}.example")


@pytest.mark.django_db
def test_locally_a_tenant_goes_to_the_one_local_cell_made_from_settings(settings, unique_slug):
    settings.LOCAL_CELL_NAME = "local-test"
    settings.LOCAL_CELL_TABLE_BUDGET = 600
    tenant = make_tenant(unique_slug("cell"))
    cell = place_tenant_in_cell(tenant=tenant)
    assert (cell.name, cell.table_budget) == ("local-test", 600)
    assert place_tenant_in_cell(tenant=tenant) == cell  # idempotent
    assert tenant.events.filter(action="tenant.placed").count() == 1


@pytest.mark.django_db
def test_a_full_cell_is_skipped_for_one_with_room(settings, unique_slug):
    settings.LOCAL_CELL_ENABLED = False
    Cell.objects.all().update(accepting_tenants=False)
    full = Cell.objects.create(name="a-full", region="us-east-1", table_budget=tables_per_tenant())
    roomy = Cell.objects.create(name="b-roomy", region="eu-west-1", table_budget=10 * tables_per_tenant())
    Tenant.objects.filter(pk=make_tenant(unique_slug("occupant")).pk).update(cell=full)
    assert place_tenant_in_cell(tenant=make_tenant(unique_slug("newcomer"))) == roomy


@pytest.mark.django_db
@pytest.mark.ddblocal
def test_with_no_cell_with_room_onboarding_fails_the_tenant_with_the_reason(
    settings, unique_slug, dynamodb_local
):
    settings.LOCAL_CELL_ENABLED = False
    Cell.objects.all().update(accepting_tenants=False)
    Cell.objects.create(name="tiny", region="us-east-1", table_budget=tables_per_tenant() - 1)
    tenant = make_tenant(unique_slug("refused"))
    run = run_onboarding(onboarding_run_create(tenant).id)
    tenant.refresh_from_db()
    assert run.status == "failed" and tenant.status == "failed"
    assert tenant.failure_reason.startswith(
        "place_in_cell: NoCellCapacity: No cell accepting tenants has room"
    )
    assert tenant.cell is None
    assert [s["status"] for s in run.steps][:2] == ["failed", "pending"]


@pytest.mark.django_db(transaction=True)
def test_two_tenants_racing_for_the_last_room_in_a_cell_exactly_one_gets_it(settings, unique_slug):
    settings.LOCAL_CELL_ENABLED = False
    Cell.objects.all().update(accepting_tenants=False)
    cell = Cell.objects.create(name="last-room", region="us-east-1", table_budget=tables_per_tenant())
    tenants = [make_tenant(unique_slug("racer")) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def place(tenant: Tenant) -> None:
        try:
            barrier.wait()
            outcomes[tenant.slug] = place_tenant_in_cell(tenant=tenant)
        except NoCellCapacity as exc:
            outcomes[tenant.slug] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(tenant,)) for tenant in tenants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(outcome).__name__ for outcome in outcomes.values()) == ["Cell", "NoCellCapacity"]
    assert Tenant.objects.filter(cell=cell).count() == 1
