"""A rollout names its tenants: "all" or slugs. Nothing sent is never read as every tenant."""

import pytest

from provisioning.actions import do_start_rollout
from provisioning.errors import NoRolloutTargets
from provisioning.models import Rollout
from tenants.actions import do_change_tenant_status, do_create_tenant
from tenants.models import Tenant

pytestmark = pytest.mark.django_db

LIMITS = {"canary": 1, "wave_size": 10, "max_parallel": 2, "max_failures": 0}


@pytest.fixture
def live_tenant(unique_slug) -> Tenant:
    slug = unique_slug("live")
    tenant = do_create_tenant(slug=slug, name="Live", tier="standard", admin_email=f"admin@{slug}.example")
    return do_change_tenant_status(tenant=tenant, status=Tenant.Status.ACTIVE)


@pytest.mark.parametrize(
    "targets",
    [{}, {"tenants": []}, {"tenants": None}, {"tenants": ""}],
    ids=["absent", "empty", "null", "blank"],
)
def test_a_rollout_without_named_targets_is_a_400_naming_the_field(staff_client, live_tenant, targets):
    response = staff_client.post("/control/v1/rollouts", {**LIMITS, **targets}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == {"tenants"}
    assert not Rollout.objects.exists()


def test_all_tenants_are_rolled_out_to_only_when_asked_for_by_name(staff_client, live_tenant):
    response = staff_client.post("/control/v1/rollouts", {**LIMITS, "tenants": "all"}, format="json")
    assert response.status_code == 202
    rollout = Rollout.objects.get(pk=response.json()["id"])
    assert [entry.tenant.slug for entry in rollout.tenants.all()] == [live_tenant.slug]


def test_a_rollout_to_no_tenant_is_refused_by_the_action_whatever_the_caller():
    with pytest.raises(NoRolloutTargets):
        do_start_rollout(tenants=[], **LIMITS)
