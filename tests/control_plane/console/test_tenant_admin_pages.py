"""Tenant admin pages: API keys, team invitations, the attribute schema, listings, orders, usage."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client, override_settings

from control_plane.console.selectors import tenant_tables
from tenants.api_keys import resolve_api_key
from tenants.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant_admin(signed_in, registered_tenant):
    tenant = registered_tenant(tier="premium")
    return tenant, signed_in("admin@t.example", tenant=tenant, role="admin")


def test_a_new_key_is_shown_once_and_works_until_revoked(tenant_admin):
    tenant, client = tenant_admin
    url = f"/console/t/{tenant.slug}/api-keys/"
    created = client.post(url, {"name": "storefront", "scopes": ["read", "write"]}, follow=True)
    assert created.redirect_chain == [(url, 302)]
    raw_key = re.search(r'id="issued-key"[^>]*>(rk_[^<]+)<', created.content.decode()).group(1)
    principal = resolve_api_key(raw_key)
    assert principal.tenant_slug == tenant.slug and principal.scopes == {"read", "write"}
    assert created["Cache-Control"].startswith("max-age=0")
    assert raw_key not in client.get(url).content.decode()
    key = tenant.api_keys.get()
    client.post(f"/console/t/{tenant.slug}/api-keys/{key.id}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "revoked" in client.get(url).content.decode()


def test_a_key_needs_a_name_and_a_known_scope(tenant_admin):
    tenant, client = tenant_admin
    response = client.post(f"/console/t/{tenant.slug}/api-keys/", {"name": "", "scopes": ["root"]})
    assert set(response.context["form"].errors) == {"name", "scopes"}
    assert not tenant.api_keys.exists()


def _signs_in(username: str, password: str) -> bool:
    response = Client().post("/console/login/", {"username": username, "password": password})
    return response.status_code == 302


def _invitation_link() -> str:
    return re.search(r"http://testserver(/console/invitations/[^/\s]+/)", mail.outbox[-1].body).group(1)


def test_an_invited_auditor_sets_a_password_and_becomes_a_member(tenant_admin):
    tenant, client = tenant_admin
    client.post(f"/console/t/{tenant.slug}/team/", {"email": "Reader@T.example", "role": "auditor"})
    assert mail.outbox[-1].to == ["reader@t.example"]
    link = _invitation_link()
    invitee = Client()
    assert invitee.get(link).status_code == 200
    password = "correct horse battery staple 9"
    response = invitee.post(link, {"password": password, "password_again": password})
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="reader@t.example")
    assert membership.tenant == tenant and membership.role == "auditor"
    assert _signs_in("reader@t.example", password)
    assert invitee.get(f"/console/t/{tenant.slug}/history/").status_code in (200,)


def test_an_invitation_link_works_once(tenant_admin):
    tenant, client = tenant_admin
    client.post(f"/console/t/{tenant.slug}/team/", {"email": "once@t.example", "role": "admin"})
    link = _invitation_link()
    password = "correct horse battery staple 9"
    assert Client().post(link, {"password": password, "password_again": password}).status_code == 302
    again = Client().post(
        link, {"password": "another pass phrase 77", "password_again": "another pass phrase 77"}
    )
    assert again.status_code == 404
    assert _signs_in("once@t.example", password)


def test_a_tampered_or_expired_invitation_is_refused(tenant_admin):
    tenant, client = tenant_admin
    client.post(f"/console/t/{tenant.slug}/team/", {"email": "late@t.example", "role": "admin"})
    link = _invitation_link()
    assert Client().get(link[:-3] + "xx/").status_code == 404
    with override_settings(CONSOLE_INVITATION_MAX_AGE_SECONDS=-1):
        assert Client().get(link).status_code == 404
    assert not Membership.objects.filter(user__username="late@t.example").exists()


def test_an_existing_user_accepts_with_their_own_password_which_is_not_replaced(tenant_admin, make_user):
    tenant, client = tenant_admin
    make_user("elsewhere@t.example")
    client.post(f"/console/t/{tenant.slug}/team/", {"email": "elsewhere@t.example", "role": "auditor"})
    link = _invitation_link()
    assert Client().post(link, {"password": "attacker chosen password 1"}).status_code == 200
    assert not Membership.objects.filter(user__username="elsewhere@t.example").exists()
    from tests.control_plane.console.conftest import PASSWORD

    assert Client().post(link, {"password": PASSWORD}).status_code == 302
    assert User.objects.get(username="elsewhere@t.example").check_password(PASSWORD)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "Not valid JSON"),
        ('{"type": "objekt"}', "Not a valid JSON Schema"),
        ('{"type": "object", "properties": {"size": {"minLength": -1}}}', "Not a valid JSON Schema"),
        ('{"type": "string"}', '"type": "object"'),
        ("[1, 2]", "must be a JSON object"),
        ('{"type": "object", "properties": {"c": {"pattern": "(a)\\\\1"}}}', "linear time"),
        ('{"type": "object", "patternProperties": {"^x": {}}, "unevaluatedProperties": false}', "additional"),
    ],
)
def test_an_invalid_attribute_schema_is_refused_with_the_reason(tenant_admin, text, message):
    tenant, client = tenant_admin
    response = client.post(f"/console/t/{tenant.slug}/schema/", {"schema": text})
    assert message in " ".join(response.context["form"].errors["schema"])
    tenant.refresh_from_db()
    assert tenant.attribute_schema is None


def test_a_valid_attribute_schema_is_saved_and_can_be_cleared(tenant_admin):
    tenant, client = tenant_admin
    schema = '{"type": "object", "properties": {"size": {"type": "string", "enum": ["S", "M", "L"]}}}'
    assert client.post(f"/console/t/{tenant.slug}/schema/", {"schema": schema}).status_code == 302
    tenant.refresh_from_db()
    assert tenant.attribute_schema["properties"]["size"]["enum"] == ["S", "M", "L"]
    assert tenant.events.filter(action="attribute_schema.set").exists()
    client.post(f"/console/t/{tenant.slug}/schema/", {"schema": ""})
    tenant.refresh_from_db()
    assert tenant.attribute_schema is None


def test_a_standard_tenant_cannot_set_a_schema(signed_in, registered_tenant):
    tenant = registered_tenant(tier="standard")
    client = signed_in("admin@std.example", tenant=tenant, role="admin")
    assert b"premium" in client.get(f"/console/t/{tenant.slug}/schema/").content
    response = client.post(f"/console/t/{tenant.slug}/schema/", {"schema": '{"type": "object"}'})
    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.attribute_schema is None


def test_pages_of_a_tenant_without_tables_say_so(tenant_admin):
    tenant, client = tenant_admin
    for page in ("listings", "orders", "usage", "history", "chain", "activity"):
        assert b"No data yet" in client.get(f"/console/t/{tenant.slug}/{page}/").content


# Pages over the tenant's tables (DynamoDB Local)


def _listing(tables, listing_id: str, **fields):
    now = datetime.now(UTC)
    values = {
        "seller_id": "seller-1",
        "title": f"Listing {listing_id}",
        "description": "",
        "category": "shoes",
        "condition": "good",
        "price": "10.00",
        "currency": "EUR",
        "created_at": now.isoformat(),
        "updated_at": now.isoformat(),
        "actor": "api-key:test",
    }
    values.update(fields)
    item = tables.listings(listing_id, **values)
    item.save()
    return item


@pytest.fixture
def live_tenant(provisioned_tenant):
    """A provisioned tenant and a client signed in as the admin its onboarding granted."""
    tenant = provisioned_tenant(tier="premium")
    client = Client()
    client.force_login(User.objects.get(username=tenant.admin_email, memberships__role="admin"))
    return tenant, client, tenant_tables(tenant)


@pytest.mark.ddblocal
def test_listings_are_filtered_by_status_category_seller_and_text(live_tenant):
    tenant, client, tables = live_tenant
    _listing(tables, "l-red", title="Red sneakers", category="shoes", seller_id="ann")
    _listing(tables, "l-blue", title="Blue coat", category="coats", seller_id="bob")
    _listing(tables, "l-old", title="Old red hat", category="hats", seller_id="ann", status="withdrawn")
    url = f"/console/t/{tenant.slug}/listings/"

    def ids(**params) -> set[str]:
        return {item.id for item in client.get(url, params).context["page"].items}

    assert ids() == {"l-red", "l-blue", "l-old"}
    assert ids(status="active") == {"l-red", "l-blue"}
    assert ids(category="coats") == {"l-blue"}
    assert ids(seller_id="ann") == {"l-red", "l-old"}
    assert ids(seller_id="ann", status="active") == {"l-red"}
    assert ids(q="red") == {"l-old"}
    assert ids(q="Red") == {"l-red"}


@pytest.mark.ddblocal
def test_listings_page_through_with_a_cursor(live_tenant):
    tenant, client, tables = live_tenant
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(55):
        _listing(tables, f"l-{n:02d}", created_at=(base + timedelta(minutes=n)).isoformat())
    first = client.get(f"/console/t/{tenant.slug}/listings/", {"status": "active"}).context["page"]
    second = client.get(
        f"/console/t/{tenant.slug}/listings/", {"status": "active", "cursor": first.next_cursor}
    ).context["page"]
    assert len(first.items) == 50 and len(second.items) == 5 and second.next_cursor is None
    assert first.items[0].id == "l-54"
    assert {i.id for i in first.items} | {i.id for i in second.items} == {f"l-{n:02d}" for n in range(55)}


@pytest.mark.ddblocal
def test_an_admin_edits_a_listing_and_a_stale_edit_is_refused(live_tenant):
    tenant, client, tables = live_tenant
    listing = _listing(tables, "l-edit")
    url = f"/console/t/{tenant.slug}/listings/l-edit/"
    form = {
        "version": listing.version,
        "title": "Renamed",
        "description": "now with laces",
        "category": "shoes",
        "condition": "good",
        "price": "12.5",
        "currency": "EUR",
    }
    assert client.post(url, form).status_code == 302
    saved = tables.listings.get("l-edit")
    assert (saved.title, saved.price, saved.version) == ("Renamed", "12.50", listing.version + 1)
    assert saved.actor == f"console:admin@{tenant.slug}.example"
    stale = client.post(url, {**form, "title": "Lost update"})
    assert "Someone changed this listing" in stale.content.decode()
    assert tables.listings.get("l-edit").title == "Renamed"


@pytest.mark.ddblocal
def test_an_admin_withdraws_an_active_listing_but_not_a_sold_one(live_tenant):
    tenant, client, tables = live_tenant
    _listing(tables, "l-go")
    _listing(tables, "l-sold", status="sold")
    client.post(f"/console/t/{tenant.slug}/listings/l-go/withdraw/")
    assert tables.listings.get("l-go").status == "withdrawn"
    response = client.post(f"/console/t/{tenant.slug}/listings/l-sold/withdraw/", follow=True)
    assert "cannot be withdrawn" in response.content.decode()
    assert tables.listings.get("l-sold").status == "sold"


def _order(tables, order_id: str, *, created_at: str, status: str = "paid", buyer_id: str = "buyer-1"):
    item = tables.orders(
        order_id,
        listing_id="l-1",
        buyer_id=buyer_id,
        status=status,
        amount="10.00",
        currency="EUR",
        payment_token_fingerprint="fp",
        history=[
            {"status": "submitted", "at": created_at, "actor": "api-key:k", "reason": ""},
            {"status": status, "at": created_at, "actor": "worker", "reason": "charged"},
        ],
        created_at=created_at,
        updated_at=created_at,
        actor="api-key:k",
    )
    item.save()
    return item


@pytest.mark.ddblocal
def test_orders_are_listed_filtered_and_show_their_status_history(live_tenant):
    tenant, client, tables = live_tenant
    now = datetime.now(UTC).isoformat()
    _order(tables, "o-1", created_at=now, status="paid", buyer_id="ann")
    _order(tables, "o-2", created_at=now, status="cancelled", buyer_id="bob")
    url = f"/console/t/{tenant.slug}/orders/"
    assert {o.id for o in client.get(url).context["page"].items} == {"o-1", "o-2"}
    assert {o.id for o in client.get(url, {"status": "cancelled"}).context["page"].items} == {"o-2"}
    assert {o.id for o in client.get(url, {"buyer_id": "ann"}).context["page"].items} == {"o-1"}
    detail = client.get(f"{url}o-1/").content.decode()
    assert "submitted" in detail and "charged" in detail
    assert client.get(f"{url}o-missing/").status_code == 404


@pytest.mark.ddblocal
def test_usage_counts_orders_and_listings_per_day(live_tenant, history_writer):
    """From the per-day counts the history keeps as it appends each order's and listing's INSERT."""
    tenant, client, tables = live_tenant
    today = datetime.now(UTC)
    created = [
        ("order", today),
        ("order", today),
        ("order", today - timedelta(days=2)),
        ("order", today - timedelta(days=90)),
        ("listing", today - timedelta(days=1)),
    ]
    history_writer(
        tables,
        [
            {"event": "INSERT", "entity_type": kind, "entity_id": f"{kind}-{n}", "at": at.isoformat()}
            for n, (kind, at) in enumerate(created)
        ]
        + [{"event": "MODIFY", "entity_type": "order", "entity_id": "order-0", "at": today.isoformat()}],
    )
    charts = dict(client.get(f"/console/t/{tenant.slug}/usage/").context["charts"])
    orders = charts["Orders per day"]
    assert orders.total == 3 and orders.peak == 2
    assert [bar.count for bar in orders.bars][-3:] == [1, 0, 2]
    assert [bar.count for bar in charts["Listings created per day"].bars][-3:] == [0, 1, 0]


def test_guessing_an_existing_accounts_password_through_an_invitation_is_locked_out(
    tenant_admin, make_user, settings
):
    tenant, client = tenant_admin
    make_user("target@t.example")
    client.post(f"/console/t/{tenant.slug}/team/", {"email": "target@t.example", "role": "admin"})
    link = _invitation_link()
    for n in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert Client().post(link, {"password": f"guess-{n}"}).status_code == 200
    assert Client().post(link, {"password": "last-guess"}).status_code == 429
    from tests.control_plane.console.conftest import PASSWORD

    assert Client().post(link, {"password": PASSWORD}).status_code == 429
    assert (
        Client().post("/console/login/", {"username": "target@t.example", "password": PASSWORD}).status_code
        == 429
    )
    assert not Membership.objects.filter(user__username="target@t.example").exists()


def test_login_does_not_redirect_off_site(make_user):
    from tests.control_plane.console.conftest import PASSWORD

    make_user("user@t.example")
    response = Client().post(
        "/console/login/?next=https://evil.example/", {"username": "user@t.example", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/console/"


@pytest.mark.ddblocal
def test_usage_charts_api_requests_and_throttled_requests(live_tenant):
    from httpkit.usage import usage_record

    tenant, client, _ = live_tenant
    for status in (200, 200, 429):
        usage_record(tenant_slug=tenant.slug, status_code=status)
    charts = dict(client.get(f"/console/t/{tenant.slug}/usage/").context["charts"])
    assert charts["API requests per day"].bars[-1].count == 3
    assert charts["Throttled requests per day"].bars[-1].count == 1
