"""The sign-in lockout on every way in that checks a password: the control-plane token, the
console's login, Django's admin and an invitation of an existing account (control_plane/signin.py)."""

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from control_plane import signin
from control_plane.console.services import invitation_issue, invitation_token
from control_plane.signin import signin_lock_take
from tenants.actions import do_create_tenant

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_signin_counters", "fast_password_hashing"),
]

USERNAME = "staff@p.example"
PASSWORD = "pw-staff-1"
WAYS_IN = ["token", "console", "admin", "invitation"]


@pytest.fixture
def sign_in(way_in, unique_slug):
    """``sign_in(password, address)``: one attempt at the staff user's password on ``way_in``
    (for an invitation: the invitation of that existing account to a tenant)."""
    User.objects.create_user(USERNAME, email=USERNAME, password=PASSWORD, is_staff=True)
    paths = {"console": "/console/login/", "admin": "/admin/login/?next=/admin/"}
    if way_in == "invitation":
        slug = unique_slug("inv")
        tenant = do_create_tenant(
            slug=slug, name=slug.title(), tier="standard", admin_email=f"a@{slug}.example"
        )
        invitation = invitation_issue(
            tenant=tenant, email=USERNAME, role="auditor", actor=None, accept_url_for=lambda token: token
        )
        paths["invitation"] = f"/console/invitations/{invitation_token(invitation)}/"

    def attempt(password: str, address: str):
        credentials = {"username": USERNAME, "password": password}
        if way_in == "token":
            return APIClient().post("/control/v1/token", credentials, format="json", REMOTE_ADDR=address)
        return Client().post(paths[way_in], credentials, REMOTE_ADDR=address)

    return attempt


@pytest.mark.parametrize("way_in", WAYS_IN)
def test_a_parallel_burst_of_guesses_gets_no_more_password_checks_than_the_limit(
    sign_in, password_hashes, settings
):
    password_hashes.clear()
    guesses = 3 * settings.LOGIN_FAILURE_LIMIT
    barrier = threading.Barrier(guesses)
    statuses = []

    def guess(n: int) -> None:
        barrier.wait()
        try:
            statuses.append(sign_in(f"wrong-{n}", address=f"10.4.0.{n}").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(password_hashes) == settings.LOGIN_FAILURE_LIMIT
    assert statuses.count(429) == guesses - settings.LOGIN_FAILURE_LIMIT + 1
    assert sign_in(PASSWORD, address="10.4.9.9").status_code == 429
    assert len(password_hashes) == settings.LOGIN_FAILURE_LIMIT


@pytest.mark.parametrize("way_in", ["console", "admin", "invitation"])
@pytest.mark.usefixtures("signin_counters_unreachable")
def test_a_sign_in_page_without_the_lockout_counters_is_a_503_page_with_retry_after(sign_in, password_hashes):
    password_hashes.clear()
    response = sign_in(PASSWORD, address="10.5.0.1")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html") and "Retry-After" in response
    assert password_hashes == []


@pytest.mark.parametrize("way_in", WAYS_IN)
def test_a_sign_in_that_cannot_get_its_usernames_lock_in_time_is_refused_unchecked(
    sign_in, password_hashes, monkeypatch
):
    password_hashes.clear()
    holder = RequestFactory().post("/console/login/")
    assert signin_lock_take(holder, {"username": USERNAME})
    monkeypatch.setattr(signin, "SIGNIN_LOCK_WAIT_SECONDS", 0.3)
    try:
        refused = sign_in(PASSWORD, address="10.6.0.1")
    finally:
        holder.signin_locks[USERNAME].release()
    assert refused.status_code == 429 and "Retry-After" in refused
    assert password_hashes == []
    assert sign_in(PASSWORD, address="10.6.0.1").status_code in {200, 302}
