"""Staff pages of the fleet: start a rollout, follow its waves and plans live, resume; drift."""

import pytest

from provisioning.models import Rollout, RolloutTenant
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(signed_in):
    return signed_in("fleet@platform.example", staff=True)


@pytest.fixture
def live_tenants(registered_tenant):
    def make(count: int) -> list[Tenant]:
        tenants = [registered_tenant() for _ in range(count)]
        Tenant.objects.filter(pk__in=[t.pk for t in tenants]).update(status=Tenant.Status.ACTIVE)
        return tenants

    return make


def test_the_rollouts_page_starts_a_rollout_then_shows_its_waves_plans_and_progress_until_it_ends(
    staff, live_tenants
):
    first, second = live_tenants(2)
    form = {
        "tenants": f"{first.slug}, {second.slug}",
        "canary": 1,
        "wave_size": 5,
        "max_parallel": 2,
        "max_failures": 0,
    }
    started = staff.post("/console/staff/rollouts/", form)
    rollout = Rollout.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/console/staff/rollouts/{rollout.pk}/"

    page = staff.get(started["Location"]).content.decode()
    assert "Wave 1 (canary)" in page and "Wave 2" in page and "not planned yet" in page
    assert 'hx-trigger="every 2s"' in page  # live while running

    RolloutTenant.objects.filter(tenant=first).update(
        status="changed",
        planned_changes=True,
        plan=[
            {"table": f"resale-{first.slug}-orders", "action": "changed", "changes": ["add index by_listing"]}
        ],
    )
    RolloutTenant.objects.filter(tenant=second).update(
        status="failed", plan=[], error="ValidationException: boom"
    )
    Rollout.objects.filter(pk=rollout.pk).update(status="halted", halted_reason="1 tenants failed")
    partial = staff.get(started["Location"], headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('<section class="card run" id="rollout-progress"')
    assert "add index by_listing" in partial and "ValidationException: boom" in partial
    assert 'id="rollout-resume"' in partial and "every 2s" not in partial  # halted: nothing moves

    resumed = staff.post(f"/console/staff/rollouts/{rollout.pk}/resume/")
    assert resumed.status_code == 302
    assert Rollout.objects.get().status == "running"
    assert RolloutTenant.objects.get(tenant=second).status == "pending"
    listed = staff.get("/console/staff/rollouts/").content.decode()
    assert f"#{rollout.pk}" in listed and "badge-running" in listed


def test_a_rollout_naming_an_unknown_tenant_is_refused_on_the_form(staff, live_tenants):
    (tenant,) = live_tenants(1)
    form = {
        "tenants": f"{tenant.slug} no-such-tenant",
        "canary": 1,
        "wave_size": 5,
        "max_parallel": 2,
        "max_failures": 0,
    }
    page = staff.post("/console/staff/rollouts/", form)
    assert page.status_code == 200 and "No such tenants: no-such-tenant" in page.content.decode()
    assert not Rollout.objects.exists()


def test_the_drift_page_lists_live_tenants_and_checks_each_lazily(staff, live_tenants, registered_tenant):
    (live,) = live_tenants(1)
    onboarding = registered_tenant()
    page = staff.get("/console/staff/drift/").content.decode()
    assert f'hx-get="/console/staff/drift/{live.slug}/"' in page and onboarding.slug not in page
    row = staff.get(f"/console/staff/drift/{onboarding.slug}/").content.decode()
    assert "it has no resources to compare" in row


def test_fleet_pages_are_for_staff_only(signed_in, live_tenants):
    (tenant,) = live_tenants(1)
    member = signed_in("admin@tenant.example", tenant=tenant, role="admin")
    for path in ("/console/staff/rollouts/", "/console/staff/drift/", f"/console/staff/drift/{tenant.slug}/"):
        assert member.get(path).status_code == 403
