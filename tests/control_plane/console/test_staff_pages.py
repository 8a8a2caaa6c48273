"""Staff pages: the tenants list, onboarding from the form, the run's progress, retry, actions."""

import pytest
from django.core import mail

from provisioning.models import ProvisioningRun
from provisioning.onboarding import onboarding_run_create
from tenants.actions import do_change_tenant_status
from tenants.models import Tenant
from tests.resale.factories import shard_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(signed_in):
    return signed_in("staff@platform.example", staff=True)


def test_the_tenants_list_filters_by_status_and_searches(staff, registered_tenant):
    active, provisioning = registered_tenant(), registered_tenant(tier="premium")
    do_change_tenant_status(tenant=active, status=Tenant.Status.ACTIVE)
    onboarding_run_create(provisioning)
    page = staff.get("/console/staff/tenants/").content.decode()
    assert active.slug in page and provisioning.slug in page
    only_active = staff.get("/console/staff/tenants/", {"status": "active"}).content.decode()
    assert active.slug in only_active and provisioning.slug not in only_active
    searched = staff.get("/console/staff/tenants/", {"q": provisioning.slug}).content.decode()
    assert provisioning.slug in searched and active.slug not in searched
    premium = staff.get("/console/staff/tenants/", {"tier": "premium"}).content.decode()
    assert provisioning.slug in premium and active.slug not in premium


def test_the_onboarding_form_registers_the_tenant_and_queues_its_run(
    staff, django_capture_on_commit_callbacks
):
    body = {"slug": "acme-resale", "name": "Acme", "tier": "premium", "admin_email": "boss@acme.example"}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff.post("/console/staff/onboard/", body)
    tenant = Tenant.objects.get(slug="acme-resale")
    run = tenant.runs.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/staff/tenants/acme-resale/runs/{run.pk}/"
    assert tenant.status == Tenant.Status.PROVISIONING and run.kind == ProvisioningRun.Kind.ONBOARD
    assert len(callbacks) == 1
    assert tenant.events.filter(action="tenant.created", actor__username="staff@platform.example").exists()


@pytest.mark.parametrize(
    ("field", "value"), [("slug", "Bad Slug"), ("slug", "ab"), ("admin_email", "nope"), ("tier", "gold")]
)
def test_the_onboarding_form_rejects_bad_input_naming_the_field(staff, field, value):
    body = {
        "slug": "good-slug",
        "name": "Good",
        "tier": "standard",
        "admin_email": "a@b.example",
        field: value,
    }
    response = staff.post("/console/staff/onboard/", body)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Tenant.objects.exists()


def test_a_taken_slug_is_shown_on_the_form(staff, registered_tenant):
    taken = registered_tenant()
    body = {"slug": taken.slug, "name": "Again", "tier": "standard", "admin_email": "a@b.example"}
    response = staff.post("/console/staff/onboard/", body)
    assert response.status_code == 200
    assert response.context["form"].errors["slug"] == ["This slug is taken."]


def test_the_progress_partial_polls_until_the_run_finishes(staff, registered_tenant):
    tenant = registered_tenant()
    run = onboarding_run_create(tenant)
    url = f"/console/staff/tenants/{tenant.slug}/runs/{run.pk}/progress/"
    running = staff.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in running and 'aria-valuenow="0"' in running
    run.steps[0]["status"] = "done"
    run.status = ProvisioningRun.Status.SUCCEEDED
    run.save()
    finished = staff.get(url).content.decode()
    assert "hx-trigger" not in finished and f'aria-valuenow="{run.progress}"' in finished
    assert 0 < run.progress < 100


def test_a_run_of_another_tenant_is_not_shown_under_this_slug(staff, registered_tenant):
    one, other = registered_tenant(), registered_tenant()
    run = onboarding_run_create(other)
    assert staff.get(f"/console/staff/tenants/{one.slug}/runs/{run.pk}/").status_code == 404


def test_a_failed_onboarding_shows_the_error_and_retry_resumes_the_failed_run(
    staff, registered_tenant, django_capture_on_commit_callbacks
):
    tenant = registered_tenant()
    failed = onboarding_run_create(tenant)
    failed.status, failed.error = ProvisioningRun.Status.FAILED, "apply_tables: ClientError: boom"
    failed.save()
    do_change_tenant_status(tenant=tenant, status=Tenant.Status.FAILED, reason=failed.error)
    page = staff.get(f"/console/staff/tenants/{tenant.slug}/runs/{failed.pk}/").content.decode()
    assert "apply_tables: ClientError: boom" in page and "Retry the failed run" in page
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff.post(f"/console/staff/tenants/{tenant.slug}/retry/")
    assert response["Location"] == f"/console/staff/tenants/{tenant.slug}/runs/{failed.pk}/"
    assert len(callbacks) == 1
    failed.refresh_from_db()
    assert failed.status == ProvisioningRun.Status.PENDING and failed.error == ""
    assert tenant.runs.count() == 1
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.PROVISIONING


def test_retry_is_refused_unless_a_run_failed(staff, registered_tenant):
    tenant = registered_tenant()
    response = staff.post(f"/console/staff/tenants/{tenant.slug}/retry/", follow=True)
    assert "has no failed run to retry" in response.content.decode()
    assert not tenant.runs.exists()


def test_offboard_asks_for_confirmation_then_starts_the_offboarding(
    staff, registered_tenant, django_capture_on_commit_callbacks
):
    tenant = registered_tenant()
    do_change_tenant_status(tenant=tenant, status=Tenant.Status.ACTIVE)
    confirm = staff.get(f"/console/staff/tenants/{tenant.slug}/offboard/")
    assert confirm.status_code == 200 and b"cannot be undone" in confirm.content
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ACTIVE
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        staff.post(f"/console/staff/tenants/{tenant.slug}/offboard/")
    assert len(callbacks) == 1
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.OFFBOARDING
    assert tenant.runs.get().kind == ProvisioningRun.Kind.OFFBOARD


def test_suspend_asks_for_confirmation_then_suspends_and_resume_restores(staff, registered_tenant):
    tenant = registered_tenant()
    do_change_tenant_status(tenant=tenant, status=Tenant.Status.ACTIVE)
    confirm = staff.get(f"/console/staff/tenants/{tenant.slug}/suspend/")
    assert confirm.status_code == 200 and b"answers 403" in confirm.content
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ACTIVE
    staff.post(f"/console/staff/tenants/{tenant.slug}/suspend/")
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.SUSPENDED
    staff.post(f"/console/staff/tenants/{tenant.slug}/resume/")
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ACTIVE


def test_an_unknown_tenant_action_is_404(staff, registered_tenant):
    assert staff.post(f"/console/staff/tenants/{registered_tenant().slug}/explode/").status_code == 404


def test_staff_can_email_the_tenant_admin_an_invitation(staff, registered_tenant):
    tenant = registered_tenant()
    staff.post(f"/console/staff/tenants/{tenant.slug}/invite-admin/")
    assert mail.outbox[-1].to == [tenant.admin_email]
    assert "/console/invitations/" in mail.outbox[-1].body


def test_the_health_page_shows_each_dependency_and_the_workers(staff):
    response = staff.get("/console/staff/health/")
    page = response.content.decode()
    assert response.status_code == 200
    for name in ("postgresql", "redis", "dynamodb", "Celery workers"):
        assert name in page
    assert set(response.context["health"].queued_tasks) == {"provisioning", "orders", "webhooks"}
    partial = staff.get("/console/staff/health/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "postgresql" in partial


def test_the_tenant_page_shows_each_shards_lease_and_the_tenants_consumer_lag(staff, registered_tenant):
    tenant, other = registered_tenant(), registered_tenant()
    shard_state(tenant.slug, "shard-live", lease_in=30, lag=2.5)
    shard_state(tenant.slug, "shard-stalled", lease_in=-5, lag=7.2)
    shard_state(other.slug, "shard-other", lease_in=30, lag=60.0)
    response = staff.get(f"/console/staff/tenants/{tenant.slug}/")
    page = response.content.decode()
    assert [shard.shard_id for shard in response.context["stream_lag"].shards] == [
        "shard-live",
        "shard-stalled",
    ]
    assert (
        '<strong id="tenant-lag">7.2 s</strong>' in page or '<strong id="tenant-lag">7.3 s</strong>' in page
    )
    assert "1 shard read by no consumer" in page and "consumer-a" in page
    assert "shard-other" not in page


def test_the_health_page_shows_each_tenants_lag_and_needs_attention_for_an_unread_shard(staff):
    shard_state("acme", "shard-1", lease_in=30, lag=1.5)
    healthy_lag = staff.get("/console/staff/health/", HTTP_HX_REQUEST="true")
    assert [lag.tenant_slug for lag in healthy_lag.context["health"].stream_lag] == ["acme"]
    assert 'id="lag-acme"' in healthy_lag.content.decode()
    shard_state("acme", "shard-2", lease_in=None, lag=0.0)
    health = staff.get("/console/staff/health/").context["health"]
    assert health.stream_lag[0].unread == 1 and not health.ok
