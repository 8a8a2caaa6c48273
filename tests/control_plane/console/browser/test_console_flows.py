"""Each role walks its flows in a real headless Chromium against the live server."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from playwright.sync_api import expect

from control_plane.console.selectors import tenant_tables
from httpkit.usage import usage_record
from tenants.models import ApiKey, Membership, Tenant
from tests.control_plane.console.browser.conftest import SCREENSHOTS, sign_in
from tests.control_plane.console.history import history_write

pytestmark = [
    pytest.mark.browser,
    pytest.mark.ddblocal,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a-long-test-passphrase-42"


def _user(username: str, *, staff: bool = False) -> User:
    return User.objects.create_user(username, email=username, password=PASSWORD, is_staff=staff)


def _admin_of(tenant: Tenant) -> User:
    """The admin that onboarding granted, given a password so it can sign in."""
    user = User.objects.get(username=tenant.admin_email)
    user.set_password(PASSWORD)
    user.save()
    return user


def test_staff_onboard_a_tenant_and_watch_the_progress_bar_reach_active(
    live_server, celery_worker, new_page, screenshot
):
    _user("staff@platform.example", staff=True)
    page = new_page()
    sign_in(page, live_server.url, "staff@platform.example", PASSWORD)
    expect(page.locator("h1")).to_have_text("Tenants")

    page.click("text=Onboard a tenant")
    screenshot(page, "staff-onboard")
    page.fill("input[name=slug]", "browser-shop")
    page.fill("input[name=name]", "Browser Shop")
    page.select_option("select[name=tier]", "premium")
    page.fill("input[name=admin_email]", "owner@browser-shop.example")
    page.click("#onboard-form button[type=submit]")

    expect(page.locator("#run-progress")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    seen = []
    deadline = datetime.now(UTC) + timedelta(seconds=90)
    while datetime.now(UTC) < deadline:
        bar = page.locator(".progress[role=progressbar]")
        seen.append(int(bar.get_attribute("aria-valuenow")))
        if page.locator("#tenant-status").inner_text() == "active":
            break
        page.wait_for_timeout(200)
    expect(page.locator("#tenant-status")).to_have_text("active")
    expect(page.locator("#run-status")).to_have_text("succeeded")
    assert seen[-1] == 100 and seen == sorted(seen)
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded instead of polled by htmx"
    run = Tenant.objects.get(slug="browser-shop").runs.get()
    assert page.locator(".step-done").count() == len(run.steps)
    screenshot(page, "staff-run-active")

    tenant = Tenant.objects.get(slug="browser-shop")
    assert tenant.status == Tenant.Status.ACTIVE and set(tenant.resources["tables"]) >= {
        "listings",
        "history",
    }

    page.click("text=Open the tenant")
    expect(page.locator("h1")).to_contain_text("Browser Shop")
    screenshot(page, "staff-tenant")
    page.click("a:has-text('Suspend')")
    page.click("#confirm")
    expect(page.locator(".message-success")).to_contain_text("suspended")

    page.goto(f"{live_server.url}/console/staff/tenants/")
    page.fill("input[name=q]", "browser")
    page.click("form.filters button")
    expect(page.locator("table tbody tr")).to_have_count(1)
    screenshot(page, "staff-tenants")

    page.goto(f"{live_server.url}/console/staff/health/")
    expect(page.locator(".checks li.ok").first).to_be_visible()
    expect(page.locator(f"text={celery_worker}")).to_be_visible()
    screenshot(page, "staff-health")


def test_a_tenant_admin_manages_keys_team_schema_and_listings(
    live_server, provisioned_tenant, new_page, screenshot
):
    tenant = provisioned_tenant(tier="premium")
    admin = _admin_of(tenant)
    tables = tenant_tables(tenant)
    now = datetime.now(UTC)
    for n, (title, status) in enumerate(
        [("Red sneakers", "active"), ("Wool coat", "active"), ("Hat", "sold")]
    ):
        created = (now - timedelta(days=n)).isoformat()
        tables.listings(
            f"l-{n}",
            seller_id=f"seller-{n % 2}",
            title=title,
            category="clothes",
            condition="good",
            price=f"{20 + n}.00",
            currency="EUR",
            status=status,
            created_at=created,
            updated_at=created,
            actor="api-key:seed",
        ).save()
        tables.orders(
            f"o-{n}",
            listing_id=f"l-{n}",
            buyer_id="buyer-1",
            status="paid",
            amount="20.00",
            currency="EUR",
            payment_token_fingerprint="fp",
            created_at=created,
            updated_at=created,
            actor="api-key:seed",
            history=[
                {"status": "submitted", "at": created, "actor": "api-key:seed", "reason": ""},
                {"status": "paid", "at": created, "actor": "worker", "reason": ""},
            ],
        ).save()

    for status in (200, 200, 201, 429, 200):
        usage_record(tenant_slug=tenant.slug, status_code=status, at=now - timedelta(days=status % 3))

    page = new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server.url, admin.username, PASSWORD)
    expect(page.locator("h1")).to_have_text("Listings")
    expect(page.locator("table tbody tr")).to_have_count(3)
    screenshot(page, "admin-listings")

    page.click("tr:has-text('Red sneakers') a:has-text('Edit')")
    page.fill("input[name=price]", "18.50")
    page.fill("input[name=title]", "Red sneakers, barely worn")
    screenshot(page, "admin-listing-edit")
    page.click("form.stack button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("saved")
    saved = tables.listings.get("l-0")
    assert (saved.title, saved.price, saved.version) == ("Red sneakers, barely worn", "18.50", 2)

    page.click("tr:has-text('Wool coat') button:has-text('Withdraw')")
    expect(page.locator(".message-success")).to_contain_text("withdrawn")
    assert tables.listings.get("l-1").status == "withdrawn"

    page.click("nav >> text=Orders")
    page.click("text=o-0")
    expect(page.locator(".timeline li")).to_have_count(2)
    screenshot(page, "admin-order")
    page.click("nav >> text=Usage")
    expect(page.locator("figure.chart").first).to_be_visible()
    screenshot(page, "admin-usage")

    page.click("nav >> text=API keys")
    page.fill("input[name=name]", "storefront")
    page.check("input[name=scopes][value=read]")
    page.check("input[name=scopes][value=write]")
    page.click("#key-form button[type=submit]")
    raw_key = page.locator("#issued-key").inner_text()
    assert re.fullmatch(r"rk_[0-9a-f]{16}_\S+", raw_key)
    page.screenshot(path=str(SCREENSHOTS / "admin-api-key-shown-desktop.png"), full_page=True)
    key = ApiKey.objects.get(tenant=tenant)
    assert key.scopes == ["read", "write"]
    page.reload()
    expect(page.locator("#issued-key")).to_have_count(0)
    page.click(f"#key-{key.id} button:has-text('Revoke')")
    expect(page.locator(f"#key-{key.id} .badge-revoked")).to_be_visible()
    key.refresh_from_db()
    assert key.revoked_at is not None
    screenshot(page, "admin-api-keys")

    page.click("nav >> text=Team")
    page.fill("input[name=email]", "teammate@example.com")
    page.select_option("select[name=role]", "auditor")
    page.click("#invite-form button[type=submit]")
    expect(page.locator("#pending")).to_contain_text("teammate@example.com")
    screenshot(page, "admin-team")
    link = re.search(r"(http://\S+/console/invitations/\S+/)", mail.outbox[-1].body).group(1)
    invitee = new_page("phone")
    invitee.goto(link)
    screenshot(invitee, "invitation-accept")
    invitee.fill("input[name=password]", "teammate passphrase 2026")
    invitee.fill("input[name=password_again]", "teammate passphrase 2026")
    invitee.click("button[type=submit]")
    expect(invitee.locator("h1")).to_have_text("History")
    assert Membership.objects.get(user__username="teammate@example.com", tenant=tenant).role == "auditor"

    page.click("nav >> text=Schema")
    page.fill("textarea[name=schema]", '{"type": "object", "properties": {"size": {"type": "strin"}}}')
    page.click("#schema-form button[type=submit]")
    expect(page.locator(".field-invalid .error")).to_contain_text("Not a valid JSON Schema")
    schema = {"type": "object", "properties": {"size": {"type": "string", "enum": ["S", "M", "L"]}}}
    page.fill("textarea[name=schema]", json.dumps(schema, indent=2))
    page.click("#schema-form button[type=submit]")
    expect(page.locator(".message-success")).to_have_text("Attribute schema saved.")
    screenshot(page, "admin-schema")
    tenant.refresh_from_db()
    assert tenant.attribute_schema == schema


def test_an_auditor_browses_history_and_cannot_change_anything(
    live_server, provisioned_tenant, new_page, screenshot
):
    tenant = provisioned_tenant()
    other = provisioned_tenant()
    auditor = _user("auditor@example.com")
    Membership.objects.create(user=auditor, tenant=tenant, role="auditor")
    tables = tenant_tables(tenant)
    start = datetime.now(UTC) - timedelta(days=3)
    images = [
        ("INSERT", None, {"title": "Boots", "price": "40.00", "status": "active"}),
        (
            "MODIFY",
            {"title": "Boots", "price": "40.00", "status": "active"},
            {"title": "Boots", "price": "35.00", "status": "active"},
        ),
        (
            "MODIFY",
            {"title": "Boots", "price": "35.00", "status": "active"},
            {"title": "Boots", "price": "35.00", "status": "sold"},
        ),
    ]
    history_write(
        tables,
        [
            {
                "event": event,
                "entity_id": "l-boots",
                "old": old,
                "new": new,
                "actor": f"api-key:k{seq}",
                "at": (start + timedelta(days=seq - 1)).isoformat(),
            }
            for seq, (event, old, new) in enumerate(images, start=1)
        ],
    )

    page = new_page()
    sign_in(page, live_server.url, auditor.username, PASSWORD)
    expect(page.locator("h1")).to_have_text("History")
    expect(page.locator("article.event")).to_have_count(3)
    expect(page.locator("article.event").nth(1).locator("tr.changed")).to_contain_text("35.00")
    expect(page.locator("nav")).not_to_contain_text("API keys")
    screenshot(page, "auditor-history")
    page.fill("input[name=actor]", "api-key:k2")
    page.click("form.filters button")
    expect(page.locator("article.event")).to_have_count(1)

    page.click("nav >> text=Chain")
    expect(page.locator("#chain-ok")).to_be_visible()
    screenshot(page, "auditor-chain")
    page.click("nav >> text=Activity")
    expect(page.locator("figure.chart rect.bar")).to_have_count(30)
    screenshot(page, "auditor-activity")

    with page.expect_download() as download:
        page.goto(f"{live_server.url}/console/t/{tenant.slug}/history/")
        page.click("#export-csv")
    assert download.value.suggested_filename.endswith(".csv")

    post_status = page.evaluate(
        """async (url) => {
            const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
            const body = new URLSearchParams({name: 'sneaky', scopes: 'write'});
            const response = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token}, body});
            return response.status;
        }""",
        f"{live_server.url}/console/t/{tenant.slug}/api-keys/",
    )
    assert post_status == 403
    assert not ApiKey.objects.filter(tenant=tenant).exists()
    assert page.goto(f"{live_server.url}/console/t/{tenant.slug}/api-keys/").status == 403
    assert page.goto(f"{live_server.url}/console/t/{other.slug}/history/").status == 404


def test_url_tampering_cannot_cross_tenants_for_an_admin(live_server, provisioned_tenant, new_page):
    mine, theirs = provisioned_tenant(), provisioned_tenant()
    admin = _admin_of(mine)
    page = new_page()
    sign_in(page, live_server.url, admin.username, PASSWORD)
    for path in ("listings/", "api-keys/", "team/", "history/", "history.csv", "orders/"):
        assert page.goto(f"{live_server.url}/console/t/{theirs.slug}/{path}").status == 404
    assert page.goto(f"{live_server.url}/console/staff/tenants/").status == 403
    assert page.goto(f"{live_server.url}/console/t/{mine.slug}/api-keys/").status == 200


def test_the_login_page_renders_on_phone_and_laptop(live_server, new_page, screenshot):
    page = new_page()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/console/login/"))
    screenshot(page, "login")


def test_a_tenant_admin_adds_a_webhook_and_its_test_delivery_arrives(
    live_server, receiver, celery_worker, new_page, screenshot, unique_slug
):
    slug = unique_slug("hooks")
    tenant = Tenant.objects.create(slug=slug, name="Hooks", tier="standard", admin_email="admin@h.example")
    admin = _user("admin@h.example")
    Membership.objects.create(user=admin, tenant=tenant, role="admin")
    webhook_receiver = receiver()

    page = new_page()
    sign_in(page, live_server.url, admin.username, PASSWORD)
    page.click("nav >> text=Webhooks")
    expect(page.locator("h1")).to_have_text("Webhooks")
    page.fill("input[name=url]", webhook_receiver.url)
    page.check("input[name=events][value='order.paid']")
    page.click("#webhook-form button[type=submit]")
    expect(page.locator("#issued-secret")).to_have_text(re.compile(r"^whsec_"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-webhook-added-desktop.png"), full_page=True)
    expect(page.locator("li.webhook")).to_have_count(1)

    page.click(f"li.webhook >> text={webhook_receiver.url}")
    page.click("#send-test")
    expect(page.locator(".message-success")).to_contain_text("Test delivery")
    delivered = page.locator("tr.delivery .badge-succeeded")
    for _ in range(30):
        if delivered.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(delivered).to_have_count(1)
    expect(page.locator("tr.delivery")).to_contain_text("HTTP 200")
    assert [json.loads(request.body)["type"] for request in webhook_receiver.accepted] == ["webhook.test"]
    screenshot(page, "admin-webhook-deliveries")
