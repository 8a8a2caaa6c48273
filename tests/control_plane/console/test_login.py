"""Signing in to the console and Django's admin: one lockout (django-axes) per username and address."""

import pytest
from django.test import Client, override_settings

from tests.control_plane.console.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = 5


def _login(client: Client, username: str, password: str, address: str = "10.0.0.1", **headers):
    return client.post(
        "/console/login/", {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def _fail(times: int, username: str, **kwargs) -> None:
    for n in range(times):
        expected = 429 if n + 1 >= LIMIT else 200
        assert _login(Client(), username, "wrong-guess", **kwargs).status_code == expected


def test_a_staff_user_signs_in_and_out(make_user):
    make_user("staff@p.example", staff=True)
    client = Client()
    response = _login(client, "staff@p.example", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/staff/tenants/").status_code == 200
    assert client.post("/console/logout/").status_code == 302
    assert client.get("/console/staff/tenants/").status_code == 302


def test_after_the_limit_even_the_right_password_is_refused_with_429_and_retry_after(make_user, settings):
    make_user("victim@t.example")
    client = Client()
    _fail(LIMIT - 1, "victim@t.example")
    locking = _login(client, "victim@t.example", "wrong-guess")
    assert locking.status_code == 429
    refused = _login(client, "victim@t.example", PASSWORD)
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(settings.LOGIN_LOCKOUT_SECONDS)
    assert b"Too many failed sign-ins" in refused.content
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "spelling",
    ["VICTIM@t.example", "ｖｉｃｔｉｍ＠ｔ.ｅｘａｍｐｌｅ"],
    ids=["another-case", "full-width-nfkc"],
)
def test_the_username_lockout_holds_from_other_addresses_and_other_spellings(make_user, spelling):
    make_user("victim@t.example")
    for n in range(LIMIT):
        _login(Client(), spelling, "wrong", address=f"10.0.1.{n}")
    assert _login(Client(), "victim@t.example", PASSWORD, address="10.9.9.9").status_code == 429


def test_a_full_width_username_signs_in_as_django_normalises_it(make_user):
    make_user("staff@p.example", staff=True)
    assert _login(Client(), "ｓｔａｆｆ@p.example", PASSWORD).status_code == 302


def test_one_address_spraying_many_usernames_is_locked_out_and_others_are_not(make_user):
    make_user("real@t.example")
    for n in range(LIMIT):
        _login(Client(), f"guess{n}@t.example", "wrong", address="10.6.6.6")
    assert _login(Client(), "real@t.example", PASSWORD, address="10.6.6.6").status_code == 429
    assert _login(Client(), "real@t.example", PASSWORD, address="10.7.7.7").status_code == 302


@override_settings(TRUSTED_PROXY_HOPS=1)
def test_behind_the_proxy_one_clients_failures_do_not_lock_out_the_others(make_user):
    """Every request arrives from the proxy's address; the client is what the proxy appended."""
    make_user("real@t.example")
    proxy = "10.0.0.2"
    for n in range(LIMIT):
        _login(Client(), f"guess{n}@t.example", "wrong", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert (
        _login(Client(), "real@t.example", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.4")
    ).status_code == 302


@override_settings(TRUSTED_PROXY_HOPS=1)
def test_behind_the_proxy_a_forged_forwarded_for_does_not_get_a_fresh_counter(make_user):
    make_user("real@t.example")
    proxy = "10.0.0.2"
    for n in range(LIMIT):
        forged = f"192.0.2.{n}, 203.0.113.9"
        _login(Client(), f"guess{n}@t.example", "wrong", address=proxy, HTTP_X_FORWARDED_FOR=forged)
    again = _login(
        Client(), "real@t.example", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.77, 203.0.113.9"
    )
    assert again.status_code == 429


def test_a_success_clears_the_count(make_user):
    make_user("user@t.example")
    _fail(LIMIT - 1, "user@t.example")
    assert _login(Client(), "user@t.example", PASSWORD).status_code == 302
    _fail(LIMIT - 1, "user@t.example")
    assert _login(Client(), "user@t.example", PASSWORD).status_code == 302


def test_djangos_admin_login_is_locked_out_by_the_same_counter(make_user):
    make_user("admin@p.example", staff=True)
    _fail(LIMIT, "admin@p.example")
    response = Client().post(
        "/admin/login/?next=/admin/",
        {"username": "admin@p.example", "password": PASSWORD},
        REMOTE_ADDR="10.8.8.8",
    )
    assert response.status_code == 429
    assert "Retry-After" in response


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
