"""One tenant cannot crowd the webhook workers: at most its tier's ``max_webhooks`` webhooks, even
under a race of creates, and a bounded rate of test deliveries and redrives."""

import threading

import pytest
from django.db import connection

from resale.models import WebhookDelivery, WebhookSubscription
from resale.ratelimit.limiter import RateLimited
from resale.webhooks.errors import WebhookLimitReached
from resale.webhooks.services import webhook_subscription_create, webhook_test_send
from tenants.tiers import tier_policy
from tests.resale.factories import api_client_for

STANDARD = tier_policy("standard")


@pytest.mark.django_db(transaction=True)
def test_a_race_of_creates_never_passes_the_tiers_max_webhooks(unique_slug):
    slug = unique_slug("race")
    contenders = 4 * STANDARD.max_webhooks
    start = threading.Barrier(contenders)
    outcomes: list[str] = []

    def create() -> None:
        try:
            start.wait()
            webhook_subscription_create(
                tenant_slug=slug, policy=STANDARD, url="https://h.example/", events=["*"]
            )
            outcomes.append("created")
        except WebhookLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert (
        outcomes.count("created")
        == STANDARD.max_webhooks
        == WebhookSubscription.objects.filter(tenant_slug=slug).count()
    )
    assert outcomes.count("refused") == contenders - STANDARD.max_webhooks


@pytest.mark.django_db
def test_test_deliveries_are_limited_per_tenant_and_another_tenant_keeps_its_own(unique_slug):
    noisy, quiet = unique_slug("noisy"), unique_slug("quiet")
    hooks = {
        slug: webhook_subscription_create(
            tenant_slug=slug, policy=STANDARD, url="https://h.example/", events=["*"]
        )
        for slug in (noisy, quiet)
    }
    for _ in range(STANDARD.webhook_sends_per_minute):
        webhook_test_send(tenant_slug=noisy, policy=STANDARD, webhook_id=hooks[noisy].id)
    with pytest.raises(RateLimited) as refused:
        webhook_test_send(tenant_slug=noisy, policy=STANDARD, webhook_id=hooks[noisy].id)

    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60 / STANDARD.webhook_sends_per_minute
    assert WebhookDelivery.objects.filter(tenant_slug=noisy).count() == STANDARD.webhook_sends_per_minute
    webhook_test_send(tenant_slug=quiet, policy=STANDARD, webhook_id=hooks[quiet].id)


@pytest.mark.ddblocal
@pytest.mark.django_db
def test_the_api_answers_409_past_max_webhooks_and_429_with_retry_after_past_the_sends_limit(
    provisioned_tenant,
):
    tenant = provisioned_tenant()
    client = api_client_for(tenant, "read", "write")
    body = {"url": "https://hooks.example/a", "events": ["*"]}
    hooks = [client.post("/api/v1/webhooks", body, format="json") for _ in range(STANDARD.max_webhooks)]
    assert [response.status_code for response in hooks] == [201] * STANDARD.max_webhooks

    over = client.post("/api/v1/webhooks", body, format="json")
    assert over.status_code == 409 and over["Content-Type"] == "application/problem+json"
    assert "max_webhooks" in over.json()["detail"] and "5" in over.json()["detail"]

    hook_id = hooks[0].json()["id"]
    sends = [
        client.post(f"/api/v1/webhooks/{hook_id}/test") for _ in range(STANDARD.webhook_sends_per_minute)
    ]
    assert {response.status_code for response in sends} == {202}
    limited = client.post(f"/api/v1/webhooks/{hook_id}/test")
    redrive = client.post(f"/api/v1/webhooks/{hook_id}/deliveries/{sends[0].json()['id']}/redrive")
    for response in (limited, redrive):
        assert response.status_code == 429 and int(response["Retry-After"]) >= 1
        assert "test deliveries and redrives" in response.json()["detail"]
