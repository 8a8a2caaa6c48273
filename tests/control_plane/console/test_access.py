"""Role and tenant scoping: no URL reaches another tenant's anything, auditors change nothing."""

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from control_plane.console.models import Invitation
from resale.models import WebhookSubscription
from resale.tables import TENANT_TABLE_MODELS
from tenants.actions import do_issue_api_key
from tenants.models import ApiKey, Membership

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["listings", "orders", "usage", "api-keys", "webhooks", "team", "schema"]
AUDIT_PAGES = ["history", "chain", "activity", "history-csv"]
POSTS = [
    ("api-keys", {}, {"name": "sneaky", "scopes": ["read", "write"]}),
    ("webhooks", {}, {"url": "https://evil.example/hooks", "events": ["*"]}),
    ("team", {}, {"email": "mallory@evil.example", "role": "admin"}),
    ("schema", {}, {"schema": '{"type": "object"}'}),
    ("listing-withdraw", {"listing_id": "l-1"}, {}),
    ("listing-edit", {"listing_id": "l-1"}, {"version": 1, "title": "x"}),
]


def _url(name: str, slug: str, **kwargs) -> str:
    return reverse(f"console:{name}", kwargs={"slug": slug, **kwargs})


@pytest.mark.parametrize("role", ["admin", "auditor"])
@pytest.mark.parametrize("page", ADMIN_PAGES + AUDIT_PAGES)
def test_a_member_gets_404_for_every_page_of_another_tenant(signed_in, registered_tenant, role, page):
    mine, theirs = registered_tenant(), registered_tenant()
    client = signed_in(f"{role}@mine.example", tenant=mine, role=role)
    assert client.get(_url(page, theirs.slug)).status_code == 404
    assert client.get(_url(page, "no-such-tenant")).status_code == 404


@pytest.mark.parametrize("role", ["admin", "auditor"])
@pytest.mark.parametrize(("page", "kwargs", "body"), POSTS)
def test_a_member_cannot_post_into_another_tenant(signed_in, registered_tenant, role, page, kwargs, body):
    mine, theirs = registered_tenant(tier="premium"), registered_tenant(tier="premium")
    client = signed_in(f"{role}@mine.example", tenant=mine, role=role)
    assert client.post(_url(page, theirs.slug, **kwargs), body).status_code == 404
    theirs.refresh_from_db()
    assert not theirs.api_keys.exists()
    assert not Invitation.objects.filter(tenant=theirs).exists()
    assert not WebhookSubscription.objects.filter(tenant_slug=theirs.slug).exists()
    assert theirs.attribute_schema is None


def test_an_admin_cannot_revoke_another_tenants_key_through_their_own_slug(signed_in, registered_tenant):
    mine, theirs = registered_tenant(), registered_tenant()
    their_key = do_issue_api_key(tenant=theirs, name="theirs", scopes=["read"])
    client = signed_in("admin@mine.example", tenant=mine, role="admin")
    assert client.post(_url("api-key-revoke", mine.slug, key_id=their_key.id)).status_code == 404
    assert client.post(_url("api-key-revoke", theirs.slug, key_id=their_key.id)).status_code == 404
    assert ApiKey.objects.get(id=their_key.id).revoked_at is None


@pytest.mark.parametrize(("page", "kwargs", "body"), POSTS)
def test_an_auditor_cannot_post_anything_in_their_own_tenant(
    signed_in, registered_tenant, page, kwargs, body
):
    tenant = registered_tenant(tier="premium")
    client = signed_in("auditor@t.example", tenant=tenant, role="auditor")
    assert client.post(_url(page, tenant.slug, **kwargs), body).status_code == 403
    tenant.refresh_from_db()
    assert not tenant.api_keys.exists()
    assert not Invitation.objects.filter(tenant=tenant).exists()
    assert not WebhookSubscription.objects.filter(tenant_slug=tenant.slug).exists()
    assert tenant.attribute_schema is None


def test_an_auditor_cannot_revoke_a_key(signed_in, registered_tenant):
    tenant = registered_tenant()
    key = do_issue_api_key(tenant=tenant, name="k", scopes=["read"])
    client = signed_in("auditor@t.example", tenant=tenant, role="auditor")
    assert client.post(_url("api-key-revoke", tenant.slug, key_id=key.id)).status_code == 403
    assert ApiKey.objects.get(id=key.id).revoked_at is None


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_an_auditor_cannot_open_admin_pages(signed_in, registered_tenant, page):
    tenant = registered_tenant()
    client = signed_in("auditor@t.example", tenant=tenant, role="auditor")
    assert client.get(_url(page, tenant.slug)).status_code == 403


@pytest.mark.parametrize(
    "path",
    ["/console/staff/tenants/", "/console/staff/onboard/", "/console/staff/health/"],
)
def test_tenant_members_cannot_open_staff_pages(signed_in, registered_tenant, path):
    tenant = registered_tenant()
    client = signed_in("admin@t.example", tenant=tenant, role="admin")
    assert client.get(path).status_code == 403


def test_a_member_cannot_run_staff_actions(signed_in, registered_tenant):
    tenant = registered_tenant()
    client = signed_in("admin@t.example", tenant=tenant, role="admin")
    assert client.post(f"/console/staff/tenants/{tenant.slug}/suspend/").status_code == 403
    assert client.post(f"/console/staff/tenants/{tenant.slug}/invite-admin/").status_code == 403


def test_staff_without_membership_do_not_see_tenant_pages(signed_in, registered_tenant):
    tenant = registered_tenant()
    client = signed_in("staff@platform.example", staff=True)
    assert client.get(_url("api-keys", tenant.slug)).status_code == 404


@pytest.mark.parametrize("path", ["/console/staff/tenants/", "/console/t/some-tenant/history/"])
def test_anonymous_visitors_are_sent_to_login(path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_the_root_redirects_to_the_console():
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"] == "/console/"


def test_console_home_sends_each_role_to_its_start(signed_in, registered_tenant):
    tenant = registered_tenant()
    assert signed_in("s@p.example", staff=True).get("/console/")["Location"] == "/console/staff/tenants/"
    admin = signed_in("a@t.example", tenant=tenant, role=Membership.Role.ADMIN)
    assert admin.get("/console/")["Location"] == _url("listings", tenant.slug)
    auditor = signed_in("u@t.example", tenant=tenant, role=Membership.Role.AUDITOR)
    assert auditor.get("/console/")["Location"] == _url("history", tenant.slug)


def test_a_tenant_page_answers_503_with_retry_after_when_dynamodb_is_down(
    signed_in, registered_tenant, settings
):
    tenant = registered_tenant()
    tenant.resources = {"tables": {role: f"{tenant.slug}-{role}" for role in TENANT_TABLE_MODELS}}
    tenant.save()
    settings.DYNAMODB_ENDPOINT = "http://127.0.0.1:9"
    client = signed_in("admin@t.example", tenant=tenant, role="admin")
    response = client.get(f"/console/t/{tenant.slug}/listings/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Temporarily unavailable" in response.content


def test_login_answers_503_when_redis_is_down(make_user, settings, monkeypatch, fresh_signin_counters):
    make_user("user@t.example")
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    monkeypatch.setattr(AxesProxyHandler.get_implementation(), "cache", caches["default"])
    response = Client().post("/console/login/", {"username": "user@t.example", "password": "x"})
    assert response.status_code == 503 and response["Retry-After"] == "5"


@pytest.mark.parametrize(
    "path",
    ["/static/console/console.css", "/static/console/console.js", "/static/console/vendor/htmx.min.js"],
)
def test_the_consoles_static_files_are_served(path):
    response = Client().get(path)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert len(body) > 200


def test_refusals_render_as_console_pages(signed_in, registered_tenant):
    mine, theirs = registered_tenant(), registered_tenant()
    auditor = signed_in("auditor@t.example", tenant=mine, role="auditor")
    not_found = auditor.get(f"/console/t/{theirs.slug}/history/")
    assert not_found.status_code == 404 and b"Not found" in not_found.content
    assert theirs.slug.encode() not in not_found.content
    refused = auditor.post(f"/console/t/{mine.slug}/history/")
    assert refused.status_code == 403 and b"Auditors read; they change nothing." in refused.content
    admin_page = auditor.get(f"/console/t/{mine.slug}/team/")
    assert (
        admin_page.status_code == 403
        and b"Your role in this tenant cannot open this page." in admin_page.content
    )
