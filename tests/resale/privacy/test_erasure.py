"""Erasing a buyer: afterwards nothing readable of them is left anywhere, and the chain still verifies."""

import csv
import gzip
import io
import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection

from resale.binding import tenant_dynamodb_client
from resale.history.exports import history_export
from resale.models import ErasureRequest, WebhookDelivery
from resale.privacy import services as privacy_services
from resale.streams import handler
from resale.streams.records import stream_record_from_raw
from resale.tenancy import tenant_route
from resale.webhooks.services import webhook_subscription_create
from tenants.tiers import tier_policy
from tests.resale.conftest import listing_body, order_body
from tests.resale.factories import api_client_for, drain, in_process_consumer, models_of
from tests.resale.streams.lambda_events import lambda_stream_records

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]

ADA = {
    "buyer_id": "buyer-ada",
    "buyer_email": "ada@lovelace.example",
    "shipping_address": {
        "name": "Ada Lovelace",
        "line1": "12 St James Sq",
        "city": "London",
        "country": "GB",
    },
}
ADA_TRACES = ("buyer-ada", "ada@lovelace.example", "Ada Lovelace", "12 St James Sq", "London")
BOB = {
    "buyer_id": "buyer-bob",
    "buyer_email": "bob@example.com",
    "shipping_address": {"name": "Bob", "line1": "1 Rue X", "city": "Lyon", "country": "FR"},
}


def _order(api, buyer: dict, key: str) -> str:
    listing = api.client.post("/api/v1/listings", listing_body(), format="json").json()
    response = api.client.post(
        "/api/v1/orders", order_body(listing["id"], **buyer), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 202, response.content
    return response.json()["id"]


def _all_events(auditor) -> tuple[list[dict], dict]:
    items, personal, cursor = [], {}, None
    while True:
        page = auditor.get(
            "/api/v1/audit/events", {"limit": 100, **({"cursor": cursor} if cursor else {})}
        ).json()
        items += page["items"]
        personal.update(page["personal"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items, personal


def _history_table_dump(tenant) -> str:
    table = models_of(tenant).history.Meta.table_name
    items = []
    for page in (
        tenant_dynamodb_client(tenant).get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    ):
        items += page["Items"]
    return json.dumps(items, default=str)


def test_after_an_erasure_every_place_reads_erased_and_the_chain_still_verifies(
    tenant_api, purge_order_queue, tmp_path
):
    api = tenant_api()
    auditor = api_client_for(api.tenant, "audit")
    webhook_subscription_create(
        tenant_slug=api.slug, policy=tier_policy("standard"), url="https://hooks.example/orders", events=["*"]
    )
    ada_order = _order(api, ADA, "idem-ada")
    bob_order = _order(api, BOB, "idem-bob")
    consumer = in_process_consumer()
    drain(consumer)

    events, personal = _all_events(auditor)
    ada_event = next(e for e in events if e["entity_id"] == ada_order)
    assert personal[str(ada_event["seq"])]["new"]["buyer_email"] == "ada@lovelace.example"
    assert not any(trace in json.dumps(events) for trace in ADA_TRACES), "clear personal data in the history"

    response = api.client.post("/api/v1/privacy/erasures", {"buyer_id": "buyer-ada"}, format="json")
    assert response.status_code == 202, response.content
    erasure = response.json()
    drain(consumer)  # the scrub's own writes reach the history too

    order = api.client.get(f"/api/v1/orders/{ada_order}").json()
    assert order["buyer_id"] == "[erased]"
    assert set(order["shipping_address"].values()) == {"[erased]"}
    assert api.client.get(f"/api/v1/orders/{bob_order}").json()["buyer_id"] == "buyer-bob"

    events, personal = _all_events(auditor)
    assert auditor.get("/api/v1/audit/verify").json()["ok"] is True
    ada_seqs = {str(e["seq"]) for e in events if e["entity_id"] == ada_order}
    for seq in ada_seqs:
        for side in personal.get(seq, {}).values():
            assert set(json.dumps(value) for value in side.values()) == {'"[erased]"'}
    bob_event = next(e for e in events if e["entity_id"] == bob_order)
    assert personal[str(bob_event["seq"])]["new"]["buyer_id"] == "buyer-bob"
    (erasure_event,) = [e for e in events if e["entity_type"] == "erasure"]
    assert erasure_event["entity_id"] == erasure["erasure_id"]
    assert erasure_event["actor"] == erasure["erased_by"] and erasure_event["new"]["erased_at"]

    report = auditor.get("/api/v1/audit/report.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert len(rows) == len(events)
    export = history_export(tenant=api.tenant, full=True, directory=tmp_path)
    with gzip.open(export.path, "rt") as exported:
        exported_text = exported.read()
    stored = _history_table_dump(api.tenant)
    payloads = json.dumps(list(WebhookDelivery.objects.filter(tenant_slug=api.slug).values_list("payload")))
    for place, text in {
        "csv": json.dumps(rows),
        "export": exported_text,
        "history table": stored,
        "webhook payloads": payloads,
        "events": json.dumps(events),
        "personal view": json.dumps(personal),
    }.items():
        for trace in ADA_TRACES:
            assert trace not in text, f"{trace!r} still readable in the {place}"
    assert "bob@example.com" in payloads
    idempotency = models_of(api.tenant).idempotency
    assert idempotency.count("idem-ada") == 0 and idempotency.count("idem-bob") == 1


def test_erasing_again_records_nothing_new_and_a_late_record_of_the_buyer_stays_erased(
    tenant_api, purge_order_queue
):
    api = tenant_api()
    auditor = api_client_for(api.tenant, "audit")
    first = api.client.post("/api/v1/privacy/erasures", {"buyer_id": "buyer-ada"}, format="json").json()
    again = api.client.post("/api/v1/privacy/erasures", {"buyer_id": "buyer-ada"}, format="json").json()
    assert again["erasure_id"] == first["erasure_id"]
    _order(api, ADA, "idem-late")  # a write of the buyer that the stream delivers after the erasure
    drain(in_process_consumer())
    events, personal = _all_events(auditor)
    assert [e["entity_type"] for e in events].count("erasure") == 1
    assert not any(trace in json.dumps([events, personal]) for trace in ADA_TRACES)
    order_event = next(e for e in events if e["entity_type"] == "order")
    assert order_event["new"]["buyer_id"] == "[erased]"


def test_an_erasure_needs_the_write_scope_and_a_buyer_id(tenant_api):
    api = tenant_api(scopes=("read", "audit"))
    denied = api.client.post("/api/v1/privacy/erasures", {"buyer_id": "buyer-ada"}, format="json")
    assert denied.status_code == 403
    writer = tenant_api(tenant=api.tenant)
    invalid = writer.client.post("/api/v1/privacy/erasures", {"buyer": "x"}, format="json")
    assert invalid.status_code == 400 and "buyer_id" in invalid.json()["errors"]


FAILING_STEPS = [
    ("history_append", "sent again"),  # the key destroyed, the erasure not yet in the history
    ("_order_scrub", "swept"),  # midway through the orders: the Idempotency-Key record already gone
    ("_webhook_payloads_scrub", "sent again"),  # the orders scrubbed, the payloads not
    ("_erasure_request_complete", "swept"),  # every step done, the request not marked complete
]


@pytest.mark.parametrize(("step", "retry"), FAILING_STEPS)
def test_an_erasure_failed_at_any_step_stays_recorded_and_a_retry_completes_it(
    tenant_api, purge_order_queue, monkeypatch, step, retry
):
    api = tenant_api()
    auditor = api_client_for(api.tenant, "audit")
    webhook_subscription_create(
        tenant_slug=api.slug, policy=tier_policy("standard"), url="https://hooks.example/orders", events=["*"]
    )
    ada_order = _order(api, ADA, "idem-ada")
    consumer = in_process_consumer()
    drain(consumer)

    def failing(*args, **kwargs):
        raise RuntimeError(f"{step} failed")

    with monkeypatch.context() as patched:
        patched.setattr(privacy_services, step, failing)
        with pytest.raises(RuntimeError):
            privacy_services.buyer_erase(
                route=tenant_route(api.slug), buyer_id="buyer-ada", actor="api-key:dpo"
            )
    (pending,) = ErasureRequest.objects.filter(tenant_slug=api.slug)
    assert pending.completed_at is None and pending.buyer_id == "buyer-ada"

    if retry == "sent again":
        response = api.client.post("/api/v1/privacy/erasures", {"buyer_id": "buyer-ada"}, format="json")
        assert response.status_code == 202, response.content
    else:
        assert privacy_services.pending_erasures_complete(untouched_for=timedelta(0)) == 1
    drain(consumer)

    completed = ErasureRequest.objects.get(id=pending.id)
    assert completed.completed_at is not None and completed.buyer_id == ""
    assert privacy_services.pending_erasures_complete(untouched_for=timedelta(0)) == 0
    assert api.client.get(f"/api/v1/orders/{ada_order}").json()["buyer_id"] == "[erased]"
    assert models_of(api.tenant).idempotency.count("idem-ada") == 0
    payloads = json.dumps(list(WebhookDelivery.objects.filter(tenant_slug=api.slug).values_list("payload")))
    assert not any(trace in payloads for trace in ADA_TRACES)
    events, personal = _all_events(auditor)
    erasures = [event for event in events if event["entity_type"] == "erasure"]
    assert [event["entity_id"] for event in erasures] == [completed.erasure_id]
    assert not any(trace in json.dumps([events, personal]) for trace in ADA_TRACES)
    assert auditor.get("/api/v1/audit/verify").json()["ok"] is True


def test_a_webhook_made_after_the_erasure_from_a_record_written_before_it_carries_nothing_of_the_buyer(
    tenant_api, purge_order_queue
):
    api = tenant_api()
    webhook_subscription_create(
        tenant_slug=api.slug, policy=tier_policy("standard"), url="https://hooks.example/orders", events=["*"]
    )
    _order(api, ADA, "idem-ada")  # its stream record is read only after the erasure
    _order(api, BOB, "idem-bob")
    response = api.client.post("/api/v1/privacy/erasures", {"buyer_id": "buyer-ada"}, format="json")
    assert response.status_code == 202, response.content
    drain(in_process_consumer())

    deliveries = WebhookDelivery.objects.filter(tenant_slug=api.slug, event_type="order.submitted")
    assert deliveries.count() == 2
    payloads = json.dumps(list(deliveries.values_list("payload", flat=True)))
    assert not any(trace in payloads for trace in ADA_TRACES)
    assert "bob@example.com" in payloads and '"[erased]"' in payloads


def _in_thread(work, failures: list) -> None:
    try:
        work()
    except BaseException as exc:
        failures.append(exc)
    finally:
        connection.close()


def _erasure_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_delivery_whose_erasure_check_passed_just_before_the_erasure_is_recorded_is_still_scrubbed(
    tenant_api, purge_order_queue, monkeypatch
):
    """The race: the effects find no erasure of the buyer, then the erasure is recorded and runs
    every step before the effects insert the delivery. A pause between the check and the insert
    lets the erasure run in full, unless it waits for the effects to commit."""
    api = tenant_api()
    webhook_subscription_create(
        tenant_slug=api.slug, policy=tier_policy("standard"), url="https://hooks.example/orders", events=["*"]
    )
    _order(api, ADA, "idem-ada")
    (record,) = [
        stream_record_from_raw(raw, "orders")
        for raw in lambda_stream_records(api.tenant, "orders")
        if raw["eventName"] == "INSERT"
    ]
    checked, erased = threading.Event(), threading.Event()
    deliveries_create = handler.webhook_deliveries_create

    def paused_after_the_check(**kwargs):
        checked.set()
        deadline = time.monotonic() + 20
        while not (erased.is_set() or _erasure_waits_on_a_lock()):
            assert time.monotonic() < deadline, "the erasure neither ran nor waited"
            time.sleep(0.02)
        return deliveries_create(**kwargs)

    monkeypatch.setattr(handler, "webhook_deliveries_create", paused_after_the_check)

    def effects() -> None:
        handler.apply_stream_effects(tenant_slug=api.slug, records=[record])

    def erasure() -> None:
        privacy_services.buyer_erase(route=tenant_route(api.slug), buyer_id="buyer-ada", actor="api-key:dpo")
        erased.set()

    failures = []
    threads = [threading.Thread(target=_in_thread, args=(work, failures)) for work in (effects, erasure)]
    threads[0].start()
    assert checked.wait(20)
    threads[1].start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures

    (delivery,) = WebhookDelivery.objects.filter(tenant_slug=api.slug, event_type="order.submitted")
    assert not any(trace in json.dumps(delivery.payload) for trace in ADA_TRACES)
