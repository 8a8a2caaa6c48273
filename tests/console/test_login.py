"""Signing in: Django auth, throttled per username and address, CSRF enforced."""

import pytest
from django.test import Client, override_settings

from tests.console.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post("/console/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_a_staff_user_signs_in_and_out(make_user):
    make_user("staff@p.example", staff=True)
    client = Client()
    response = _login(client, "staff@p.example", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/staff/tenants/").status_code == 200
    assert client.post("/console/logout/").status_code == 302
    assert client.get("/console/staff/tenants/").status_code == 302


@override_settings(CONSOLE_LOGIN_FAILURES_PER_USER=5)
def test_after_five_failures_even_the_right_password_is_refused(make_user):
    make_user("victim@t.example")
    client = Client()
    for _ in range(5):
        assert _login(client, "victim@t.example", "wrong-guess").status_code == 200
    refused = _login(client, "victim@t.example", PASSWORD)
    assert refused.status_code == 429
    assert b"Too many failed sign-ins" in refused.content
    assert "_auth_user_id" not in client.session


@override_settings(CONSOLE_LOGIN_FAILURES_PER_USER=5)
def test_the_username_lockout_holds_from_another_address_and_in_another_case(make_user):
    make_user("victim@t.example")
    for n in range(5):
        _login(Client(), "victim@t.example", "wrong", address=f"10.0.1.{n}")
    assert _login(Client(), "VICTIM@t.example", PASSWORD, address="10.9.9.9").status_code == 429


@override_settings(CONSOLE_LOGIN_FAILURES_PER_USER=100, CONSOLE_LOGIN_FAILURES_PER_ADDRESS=3)
def test_one_address_spraying_many_usernames_is_throttled(make_user):
    make_user("real@t.example")
    for n in range(3):
        _login(Client(), f"guess{n}@t.example", "wrong", address="10.6.6.6")
    assert _login(Client(), "real@t.example", PASSWORD, address="10.6.6.6").status_code == 429
    assert _login(Client(), "real@t.example", PASSWORD, address="10.7.7.7").status_code == 302


@override_settings(CONSOLE_LOGIN_FAILURES_PER_USER=3)
def test_a_success_clears_the_username_count(make_user):
    make_user("user@t.example")
    for _ in range(2):
        _login(Client(), "user@t.example", "wrong")
    assert _login(Client(), "user@t.example", PASSWORD).status_code == 302
    for _ in range(2):
        _login(Client(), "user@t.example", "wrong")
    assert _login(Client(), "user@t.example", PASSWORD).status_code == 302


def test_login_without_a_csrf_token_is_refused(make_user):
    make_user("user@t.example")
    client = Client(enforce_csrf_checks=True)
    assert _login(client, "user@t.example", PASSWORD).status_code == 403


def test_a_console_post_without_a_csrf_token_is_refused(make_user, registered_tenant):
    from tenants.models import Membership

    tenant = registered_tenant()
    user = make_user("admin@t.example")
    Membership.objects.create(user=user, tenant=tenant, role="admin")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(f"/console/t/{tenant.slug}/api-keys/", {"name": "k", "scopes": ["read"]})
    assert response.status_code == 403
    assert not tenant.api_keys.exists()
