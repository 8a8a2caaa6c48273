"""The tenant admin's webhooks page: register with the secret shown once, test, dead deliveries, re-drive."""

import re

import pytest
from django.urls import reverse
from standardwebhooks import Webhook

from resale.models import WebhookDelivery, WebhookSubscription
from resale.webhooks.services import webhook_subscription_create, webhook_test_send
from tenants.tiers import tier_policy

pytestmark = pytest.mark.django_db

STANDARD = tier_policy("standard")


@pytest.fixture
def tenant_admin(signed_in, registered_tenant):
    tenant = registered_tenant()
    return tenant, signed_in("admin@t.example", tenant=tenant, role="admin")


def _url(name: str, slug: str, **kwargs) -> str:
    return reverse(f"console:{name}", kwargs={"slug": slug, **kwargs})


def test_a_new_webhook_shows_its_secret_once_and_records_the_console_user(tenant_admin):
    tenant, client = tenant_admin
    url = _url("webhooks", tenant.slug)
    body = {"url": "https://hooks.example/resale", "events": ["order.paid", "listing.sold"]}
    created = client.post(url, body, follow=True)
    assert created.redirect_chain == [(url, 302)]
    webhook = WebhookSubscription.objects.get(tenant_slug=tenant.slug)
    assert (webhook.url, webhook.events, webhook.created_by) == (
        body["url"],
        ["listing.sold", "order.paid"],
        "console:admin@t.example",
    )
    shown = re.search(r'id="issued-secret"[^>]*>(whsec_[^<]+)<', created.content.decode()).group(1)
    assert shown == webhook.secret
    assert created["Cache-Control"].startswith("max-age=0")
    again = client.get(url).content.decode()
    assert webhook.secret not in again and webhook.url in again


def test_a_webhook_needs_a_url_and_a_known_event_type(tenant_admin):
    tenant, client = tenant_admin
    response = client.post(_url("webhooks", tenant.slug), {"url": "not a url", "events": ["order.lost"]})
    assert set(response.context["form"].errors) == {"url", "events"}
    assert not WebhookSubscription.objects.filter(tenant_slug=tenant.slug).exists()


def test_a_private_network_url_is_refused_in_production(tenant_admin, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    tenant, client = tenant_admin
    response = client.post(_url("webhooks", tenant.slug), {"url": "http://127.0.0.1:6379/", "events": ["*"]})
    assert response.context["form"].errors["url"] == ["The URL points into a private network."]
    assert not WebhookSubscription.objects.filter(tenant_slug=tenant.slug).exists()


def test_a_test_delivery_arrives_signed_and_shows_as_succeeded(
    tenant_admin, receiver, celery_eager, django_capture_on_commit_callbacks
):
    tenant, client = tenant_admin
    server = receiver()
    webhook = webhook_subscription_create(
        policy=STANDARD, tenant_slug=tenant.slug, url=server.url, events=["order.paid"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(_url("webhook-test", tenant.slug, webhook_id=webhook.id))
    assert sent.status_code == 302
    (request,) = server.accepted
    assert Webhook(webhook.secret).verify(request.body, request.headers)["type"] == "webhook.test"
    page = client.get(_url("webhook", tenant.slug, webhook_id=webhook.id))
    (delivery,) = page.context["deliveries"]
    assert (delivery.event_type, delivery.status, delivery.last_status_code) == (
        "webhook.test",
        "succeeded",
        200,
    )


def test_a_dead_delivery_is_listed_and_a_redrive_delivers_it(
    tenant_admin, receiver, celery_eager, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    tenant, client = tenant_admin
    server = receiver(fail_first=1)
    webhook = webhook_subscription_create(
        policy=STANDARD, tenant_slug=tenant.slug, url=server.url, events=["*"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_test_send(policy=STANDARD, tenant_slug=tenant.slug, webhook_id=webhook.id)
    page = client.get(_url("webhooks", tenant.slug))
    assert [d.id for d in page.context["dead"]] == [delivery.id]
    assert "HTTP 500" in page.content.decode()
    dead_only = client.get(_url("webhook", tenant.slug, webhook_id=webhook.id), {"status": "dead"})
    assert [d.id for d in dead_only.context["deliveries"]] == [delivery.id]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("webhook-delivery-redrive", tenant.slug, delivery_id=delivery.id))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.SUCCEEDED, 1)
    assert [r.answered for r in server.requests] == [500, 200]
    assert not client.get(_url("webhooks", tenant.slug)).context["dead"]


def test_an_admin_cannot_reach_another_tenants_webhook_or_delivery_by_id(signed_in, registered_tenant):
    mine, theirs = registered_tenant(), registered_tenant()
    their_hook = webhook_subscription_create(
        policy=STANDARD, tenant_slug=theirs.slug, url="https://t.example/h", events=["*"]
    )
    their_delivery = webhook_test_send(policy=STANDARD, tenant_slug=theirs.slug, webhook_id=their_hook.id)
    WebhookDelivery.objects.filter(id=their_delivery.id).update(status=WebhookDelivery.Status.DEAD)
    client = signed_in("admin@mine.example", tenant=mine, role="admin")
    for slug in (mine.slug, theirs.slug):
        assert client.get(_url("webhook", slug, webhook_id=their_hook.id)).status_code == 404
        assert client.post(_url("webhook-test", slug, webhook_id=their_hook.id)).status_code == 404
        assert client.post(_url("webhook-delete", slug, webhook_id=their_hook.id)).status_code == 404
        redrive = _url("webhook-delivery-redrive", slug, delivery_id=their_delivery.id)
        assert client.post(redrive).status_code == 404
    assert their_hook.secret not in client.get(_url("webhooks", mine.slug)).content.decode()
    assert WebhookDelivery.objects.filter(subscription=their_hook).count() == 1
    assert WebhookDelivery.objects.get(id=their_delivery.id).status == WebhookDelivery.Status.DEAD
    assert WebhookSubscription.objects.get(id=their_hook.id).deleted_at is None


@pytest.mark.parametrize("page", ["webhook", "webhook-test", "webhook-delete"])
def test_an_auditor_can_neither_see_nor_touch_the_tenants_webhooks(signed_in, registered_tenant, page):
    tenant = registered_tenant()
    hook = webhook_subscription_create(
        policy=STANDARD, tenant_slug=tenant.slug, url="https://t.example/h", events=["*"]
    )
    client = signed_in("auditor@t.example", tenant=tenant, role="auditor")
    assert client.get(_url("webhooks", tenant.slug)).status_code == 403
    assert client.get(_url(page, tenant.slug, webhook_id=hook.id)).status_code == 403
    assert client.post(_url(page, tenant.slug, webhook_id=hook.id)).status_code == 403
    assert WebhookDelivery.objects.count() == 0
    assert WebhookSubscription.objects.get(id=hook.id).deleted_at is None
