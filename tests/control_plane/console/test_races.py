"""Races: one invitation accepted twice at once, one listing edited twice from the same version."""

import threading
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from control_plane.console.errors import ConsoleError
from control_plane.console.selectors import tenant_tables
from control_plane.console.services import invitation_accept, invitation_issue, invitation_token
from tenants.models import Membership


def _race(*calls) -> list:
    """Runs each call in its own thread, released together; returns each result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_one_invitation_accepted_twice_at_once_makes_exactly_one_membership(registered_tenant):
    tenant = registered_tenant()
    invitation = invitation_issue(
        tenant=tenant, email="racer@t.example", role="admin", actor=None, accept_url_for=lambda token: token
    )
    token = invitation_token(invitation)
    outcomes = _race(
        lambda: invitation_accept(token=token, password="first racer passphrase 1"),
        lambda: invitation_accept(token=token, password="second racer passphrase 2"),
    )
    winners = [o for o in outcomes if isinstance(o, Membership)]
    losers = [o for o in outcomes if isinstance(o, ConsoleError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert Membership.objects.filter(user__username="racer@t.example").count() == 1
    user = User.objects.get(username="racer@t.example")
    assert sum(user.check_password(p) for p in ("first racer passphrase 1", "second racer passphrase 2")) == 1


@pytest.mark.ddblocal
@pytest.mark.django_db(transaction=True)
def test_two_console_edits_from_the_same_version_exactly_one_wins(provisioned_tenant):
    tenant = provisioned_tenant()
    tables = tenant_tables(tenant)
    now = datetime.now(UTC).isoformat()
    tables.listings(
        "l-race",
        seller_id="s",
        title="Original",
        category="c",
        condition="good",
        price="1.00",
        currency="EUR",
        created_at=now,
        updated_at=now,
        actor="seed",
    ).save()
    admin = User.objects.get(username=tenant.admin_email)
    url = f"/console/t/{tenant.slug}/listings/l-race/"
    form = {"version": 1, "category": "c", "condition": "good", "price": "1.00", "currency": "EUR"}

    def edit(title: str):
        client = Client()
        client.force_login(admin)
        return lambda: client.post(url, {**form, "title": title}).status_code

    outcomes = _race(edit("Alice's title"), edit("Bob's title"))
    assert sorted(outcomes) == [200, 302], outcomes
    saved = tables.listings.get("l-race")
    assert saved.version == 2 and saved.title in {"Alice's title", "Bob's title"}
    assert saved.actor == f"console:{admin.username}"
