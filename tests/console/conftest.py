import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from tenants.models import Membership
from tenants.services import tenant_create

PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture(autouse=True)
def _fresh_login_counters():
    """Login throttling counts in Redis; each test starts from zero (only those keys are touched)."""
    cache.delete_pattern("console:login-failures:*")
    yield
    cache.delete_pattern("console:login-failures:*")


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
        return tenant_create(slug=slug, name=slug.title(), tier=tier, admin_email=f"admin@{slug}.example")

    return make


@pytest.fixture
def history_writer():
    """Writes HistoryEvent items straight into a tenant's history table, chained like the consumer."""

    def write(tables, events: list[dict], *, start: datetime | None = None) -> list:
        start = start or datetime.now(UTC) - timedelta(minutes=len(events))
        written, prev_hash = [], "0" * 64
        for seq, spec in enumerate(events, start=1):
            at = spec.get("at") or (start + timedelta(minutes=seq)).isoformat()
            item = tables.history(
                "events",
                seq,
                event=spec.get("event", "MODIFY"),
                entity_type=spec.get("entity_type", "listing"),
                entity_id=spec.get("entity_id", "l-1"),
                entity_key=f"{spec.get('entity_type', 'listing')}#{spec.get('entity_id', 'l-1')}",
                old=json.dumps(spec["old"]) if spec.get("old") is not None else None,
                new=json.dumps(spec["new"]) if spec.get("new") is not None else None,
                actor=spec.get("actor", "api-key:abc"),
                at=at,
                source="stream",
                hash=f"{seq:064x}",
                prev_hash=prev_hash,
            )
            item.save()
            written.append(item)
            prev_hash = item.hash
        return written

    return write
