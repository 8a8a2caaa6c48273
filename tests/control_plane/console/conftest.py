import pytest
from django.contrib.auth.models import User
from django.test import Client

from tenants.actions import do_create_tenant
from tenants.models import Membership
from tests.control_plane.console.history import history_write

PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture(autouse=True)
def _fresh_login_counters(fresh_signin_counters):
    """Sign-in lockouts count in Redis; each console test starts from zero."""


@pytest.fixture(autouse=True)
def _cheap_password_hashes(fast_password_hashing):
    """Console tests sign in and fail to, many times over."""


@pytest.fixture
def make_user(db):
    def make(username: str, *, staff: bool = False) -> User:
        return User.objects.create_user(username, email=username, password=PASSWORD, is_staff=staff)

    return make


@pytest.fixture
def signed_in(make_user):
    """A Django test client signed in as a new user: staff, or a member of ``tenant`` with ``role``."""

    def make(username: str, *, staff: bool = False, tenant=None, role: str | None = None) -> Client:
        user = make_user(username, staff=staff)
        if tenant is not None:
            Membership.objects.create(user=user, tenant=tenant, role=role)
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def registered_tenant(db, unique_slug):
    """A tenant in the registry only (no tables): enough for access checks."""

    def make(tier: str = "standard"):
        slug = unique_slug("reg")
        return do_create_tenant(slug=slug, name=slug.title(), tier=tier, admin_email=f"admin@{slug}.example")

    return make


@pytest.fixture
def history_writer():
    return history_write
