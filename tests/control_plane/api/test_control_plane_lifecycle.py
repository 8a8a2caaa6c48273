"""The control-plane API drives a tenant's whole life: create, active, suspend, resume, delete."""

import pytest
from django.contrib.auth.models import User
from knox.models import AuthToken
from rest_framework.test import APIClient

from tenants.models import Tenant
from tests.table_roles import TABLE_ROLES

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


@pytest.fixture
def eager_workflows(dynamodb_local, celery_eager, django_capture_on_commit_callbacks, settings, tmp_path):
    """Runs each request's queued workflow when its transaction commits, as a worker would."""
    settings.OFFBOARDING_EXPORT_DIR = tmp_path / "exports"

    def call(method, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return method(*args, **kwargs)

    return call


def test_the_whole_lifecycle_create_active_suspend_resume_delete_offboarded(
    staff_client, eager_workflows, unique_slug
):
    slug = unique_slug("life")
    body = {"slug": slug, "name": "Life", "tier": "standard", "admin_email": f"admin@{slug}.example"}
    created = eager_workflows(staff_client.post, "/control/v1/tenants", body, format="json")
    assert created.status_code == 202 and created.json() == {"slug": slug, "status": "provisioning"}

    detail = staff_client.get(f"/control/v1/tenants/{slug}").json()
    assert detail["status"] == "active"
    assert set(detail["resources"]["tables"]) == TABLE_ROLES
    (run,) = detail["runs"]
    assert run["kind"] == "onboard" and run["status"] == "succeeded" and run["progress"] == 100
    assert [s["status"] for s in run["steps"]] == ["done"] * 6

    assert staff_client.post(f"/control/v1/tenants/{slug}/suspend").json()["status"] == "suspended"
    assert staff_client.post(f"/control/v1/tenants/{slug}/resume").json()["status"] == "active"

    deleted = eager_workflows(staff_client.delete, f"/control/v1/tenants/{slug}")
    assert deleted.status_code == 202
    detail = staff_client.get(f"/control/v1/tenants/{slug}").json()
    assert detail["status"] == "offboarded" and detail["resources"] == {}
    assert [r["kind"] for r in detail["runs"]] == ["offboard", "onboard"]


def test_a_failed_tenant_is_retried_through_the_api(staff_client, eager_workflows, unique_slug, settings):
    settings.LOCAL_CELL_ENABLED = False
    from tenants.models import Cell

    Cell.objects.all().update(accepting_tenants=False)
    slug = unique_slug("retry")
    body = {"slug": slug, "name": "Retry", "tier": "standard", "admin_email": f"admin@{slug}.example"}
    eager_workflows(staff_client.post, "/control/v1/tenants", body, format="json")
    detail = staff_client.get(f"/control/v1/tenants/{slug}").json()
    assert detail["status"] == "failed" and "NoCellCapacity" in detail["failure_reason"]

    Cell.objects.create(name=f"cell-{slug}", region="us-east-1", table_budget=600)
    retried = eager_workflows(staff_client.post, f"/control/v1/tenants/{slug}/retry")
    assert retried.status_code == 202
    assert staff_client.get(f"/control/v1/tenants/{slug}").json()["status"] == "active"
    again = staff_client.post(f"/control/v1/tenants/{slug}/retry")
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"


def test_non_staff_cannot_delete_or_retry_a_tenant(provisioned_tenant):
    tenant = provisioned_tenant()
    user = User.objects.create_user("not-staff", password="pw-user-1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    assert client.delete(f"/control/v1/tenants/{tenant.slug}").status_code == 403
    assert client.post(f"/control/v1/tenants/{tenant.slug}/retry").status_code == 403
    assert APIClient().delete(f"/control/v1/tenants/{tenant.slug}").status_code in (401, 403)
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ACTIVE


def test_deleting_an_unknown_tenant_is_404(staff_client):
    response = staff_client.delete("/control/v1/tenants/no-such-tenant")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
