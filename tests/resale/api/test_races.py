"""Real concurrency against a running server: threads racing on one listing, one key."""

import threading
from collections import Counter

import pytest
import urllib3

from resale.tenancy import tenant_route
from tests.resale.conftest import listing_body, order_body

pytestmark = [
    pytest.mark.ddblocal,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_order_queue"),
]

RACERS = 8


def race(requests: list[tuple[dict, dict]], url: str) -> list[tuple[int, dict]]:
    pool = urllib3.PoolManager(maxsize=RACERS)
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index: int, body: dict, headers: dict) -> None:
        barrier.wait()
        response = pool.request("POST", url, json=body, headers=headers, timeout=30)
        results[index] = (response.status, response.json())

    threads = [threading.Thread(target=run, args=(i, b, h)) for i, (b, h) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_buyers_one_listing_exactly_one_wins(tenant_api, live_server):
    api = tenant_api()
    listing = api.client.post("/api/v1/listings", listing_body(), format="json").json()
    auth = {"Authorization": f"Api-Key {api.key}"}
    requests = [(order_body(listing["id"], buyer_id=f"buyer-{i}"), auth) for i in range(RACERS)]
    results = race(requests, f"{live_server.url}/api/v1/orders")
    assert Counter(status for status, _ in results) == {202: 1, 409: RACERS - 1}
    orders = list(tenant_route(api.slug).models.orders.scan())
    assert len(orders) == 1
    assert tenant_route(api.slug).models.listings.get(listing["id"]).reserved_order_id == orders[0].id


def test_the_same_idempotency_key_at_once_makes_one_order(tenant_api, live_server):
    api = tenant_api()
    listing = api.client.post("/api/v1/listings", listing_body(), format="json").json()
    headers = {"Authorization": f"Api-Key {api.key}", "Idempotency-Key": "same-key-at-once"}
    results = race([(order_body(listing["id"]), headers)] * RACERS, f"{live_server.url}/api/v1/orders")
    assert {status for status, _ in results} == {202}
    assert len({body["id"] for _, body in results}) == 1
    assert len(list(tenant_route(api.slug).models.orders.scan())) == 1


def test_one_image_confirmed_at_once_by_several_callers_is_attached_once(
    tenant_api, live_server, tmp_path, settings
):
    from resale.media.storage import media_storage

    settings.MEDIA_ROOT = tmp_path
    media_storage.cache_clear()
    api = tenant_api()
    listing = api.client.post("/api/v1/listings", listing_body(), format="json").json()
    images = f"/api/v1/listings/{listing['id']}/images"
    ticket = api.client.post(images, {"content_type": "image/png", "size": 4}, format="json").json()
    upload_path = ticket["url"].split("127.0.0.1:8000", 1)[1]
    assert api.client.generic("PUT", upload_path, b"\x89PNG", content_type="image/png").status_code == 201
    auth = {"Authorization": f"Api-Key {api.key}"}
    results = race([({}, auth)] * RACERS, f"{live_server.url}{images}/{ticket['image_id']}")
    assert [status for status, _ in results] == [200] * RACERS
    stored = tenant_route(api.slug).models.listings.get(listing["id"], consistent_read=True)
    assert stored.image_keys == [ticket["key"]] and stored.version == 2
    media_storage.cache_clear()
