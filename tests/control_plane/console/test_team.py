"""Removing members and withdrawing invitations: at once, atomically, with the registry's trail."""

import re
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from control_plane.console.errors import InvitationInvalid
from control_plane.console.models import Invitation
from control_plane.console.services import (
    invitation_accept,
    invitation_issue,
    invitation_token,
    invitation_withdraw,
)
from tenants.actions import do_remove_membership
from tenants.errors import LastAdmin
from tenants.models import Membership, TenantEvent

pytestmark = pytest.mark.django_db


def _team(slug: str) -> str:
    return f"/console/t/{slug}/team/"


def _remove(client: Client, slug: str, membership: Membership):
    return client.post(f"/console/t/{slug}/team/members/{membership.pk}/remove/")


@pytest.fixture
def team(signed_in, registered_tenant):
    """A tenant with two admins (each signed in) and an auditor (signed in)."""
    tenant = registered_tenant()
    clients = {
        "ann": signed_in("ann@t.example", tenant=tenant, role="admin"),
        "bob": signed_in("bob@t.example", tenant=tenant, role="admin"),
        "cat": signed_in("cat@t.example", tenant=tenant, role="auditor"),
    }
    members = {m.user.username.split("@")[0]: m for m in tenant.memberships.select_related("user")}
    return tenant, clients, members


def test_a_removed_members_signed_in_session_loses_the_tenant_at_once(team):
    tenant, clients, members = team
    assert clients["bob"].get(_team(tenant.slug)).status_code == 200
    assert _remove(clients["ann"], tenant.slug, members["bob"]).status_code == 302
    assert clients["bob"].get(_team(tenant.slug)).status_code == 404
    invite = clients["bob"].post(_team(tenant.slug), {"email": "mole@t.example", "role": "admin"})
    assert invite.status_code == 404
    assert not Invitation.objects.filter(email="mole@t.example").exists()
    event = TenantEvent.objects.get(tenant=tenant, action="membership.removed")
    assert event.actor == members["ann"].user and event.detail["user_id"] == members["bob"].user_id


def test_a_removed_auditor_can_no_longer_read_the_history(team):
    tenant, clients, members = team
    history = f"/console/t/{tenant.slug}/history/"
    assert clients["cat"].get(history).status_code == 200
    _remove(clients["ann"], tenant.slug, members["cat"])
    assert clients["cat"].get(history).status_code == 404


def test_an_auditor_cannot_remove_anyone(team):
    tenant, clients, members = team
    assert _remove(clients["cat"], tenant.slug, members["ann"]).status_code == 403
    assert Membership.objects.filter(pk=members["ann"].pk).exists()


def test_a_member_of_another_tenant_cannot_be_removed_through_this_one(team, signed_in, registered_tenant):
    tenant, clients, _ = team
    other = registered_tenant()
    signed_in("zed@o.example", tenant=other, role="admin")
    outsider = other.memberships.get()
    assert _remove(clients["ann"], tenant.slug, outsider).status_code == 404
    assert Membership.objects.filter(pk=outsider.pk).exists()


def test_the_last_admin_cannot_remove_themselves(team):
    tenant, clients, members = team
    _remove(clients["ann"], tenant.slug, members["bob"])
    response = _remove(clients["ann"], tenant.slug, members["ann"])
    assert response.status_code == 302
    assert Membership.objects.filter(pk=members["ann"].pk).exists()
    assert clients["ann"].get(_team(tenant.slug)).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_admins_removing_each_other_at_once_leave_exactly_one(team):
    tenant, _, members = team
    barrier = threading.Barrier(2)
    outcomes = []

    def remove(membership: Membership, actor) -> None:
        barrier.wait()
        try:
            do_remove_membership(membership=membership, actor=actor)
            outcomes.append("removed")
        except LastAdmin:
            outcomes.append("refused")
        finally:
            connection.close()

    ann, bob = members["ann"], members["bob"]
    threads = [
        threading.Thread(target=remove, args=(bob, ann.user)),
        threading.Thread(target=remove, args=(ann, bob.user)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "removed"]
    assert Membership.objects.filter(tenant=tenant, role="admin").count() == 1


def _invite(client: Client, slug: str, email: str) -> str:
    client.post(_team(slug), {"email": email, "role": "auditor"})
    return re.search(r"http://testserver(/console/invitations/[^/\s]+/)", mail.outbox[-1].body).group(1)


def test_a_withdrawn_invitations_link_stops_working(team):
    tenant, clients, _ = team
    link = _invite(clients["ann"], tenant.slug, "late@t.example")
    invitation = Invitation.objects.get(email="late@t.example")
    response = clients["ann"].post(f"/console/t/{tenant.slug}/team/invitations/{invitation.pk}/withdraw/")
    assert response.status_code == 302
    assert f'id="invitation-{invitation.pk}"' not in clients["ann"].get(_team(tenant.slug)).content.decode()
    opened = Client().get(link)
    assert opened.status_code == 404 and b"withdrawn" in opened.content
    password = "correct horse battery staple 9"
    assert Client().post(link, {"password": password, "password_again": password}).status_code == 404
    assert not Membership.objects.filter(user__username="late@t.example").exists()
    event = TenantEvent.objects.get(tenant=tenant, action="invitation.withdrawn")
    assert event.detail["email"] == "late@t.example"


def test_another_tenants_invitation_cannot_be_withdrawn_through_this_one(team, signed_in, registered_tenant):
    tenant, clients, _ = team
    other = registered_tenant()
    other_admin = signed_in("zed@o.example", tenant=other, role="admin")
    _invite(other_admin, other.slug, "kept@o.example")
    invitation = Invitation.objects.get(email="kept@o.example")
    clients["ann"].post(f"/console/t/{tenant.slug}/team/invitations/{invitation.pk}/withdraw/")
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def _race_accept_and_withdraw(*, token: str, invitation_id: int, tenant, actor) -> dict[str, bool]:
    barrier = threading.Barrier(2)
    outcomes = {}

    def run(name: str, action) -> None:
        barrier.wait()
        try:
            action()
            outcomes[name] = True
        except InvitationInvalid:
            outcomes[name] = False
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=run,
            args=(
                "accept",
                lambda: invitation_accept(token=token, password="correct horse battery staple 9"),
            ),
        ),
        threading.Thread(
            target=run,
            args=(
                "withdraw",
                lambda: invitation_withdraw(tenant=tenant, invitation_id=invitation_id, actor=actor),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_withdrawing_and_accepting_at_once_exactly_one_wins(team):
    tenant, _, members = team
    actor = members["ann"].user
    for round_ in range(6):
        email = f"racer{round_}@t.example"
        invitation = invitation_issue(
            tenant=tenant, email=email, role="auditor", actor=actor, accept_url_for=str
        )
        outcomes = _race_accept_and_withdraw(
            token=invitation_token(invitation), invitation_id=invitation.pk, tenant=tenant, actor=actor
        )
        assert outcomes["accept"] != outcomes["withdraw"], outcomes
        joined = Membership.objects.filter(tenant=tenant, user__username=email).exists()
        assert joined == outcomes["accept"]
        assert Invitation.objects.filter(pk=invitation.pk).exists() == outcomes["accept"]
