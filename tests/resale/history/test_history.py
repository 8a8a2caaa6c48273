import json

import pytest

from resale.binding import tenant_dynamodb_client
from resale.history.selectors import HistoryFilter, daily_counts, history_iter
from resale.history.verification import history_verify
from tests.resale.factories import (
    drain,
    in_process_consumer,
    listing_change,
    listing_create,
    models_of,
    order_create,
)

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def _events(models, **filters):
    return list(history_iter(tenant_models=models, history_filter=HistoryFilter(**filters)))


def test_every_write_appears_in_the_history_exactly_once_in_order(provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    listings = [listing_create(models, actor=f"api-key:k{i}") for i in range(5)]
    for listing in listings:
        listing_change(listing, price="99.00", actor="api-key:editor")
    listing_change(listings[0], status="withdrawn", actor="api-key:editor")
    listings[1].delete()
    consumer = in_process_consumer()
    drain(consumer)
    drain(consumer)

    events = _events(models)
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert len(events) == 5 + 5 + 1 + 1
    assert len({event.source for event in events}) == len(events)
    first = [
        (e.event, json.loads(e.new)["price"] if e.new else None)
        for e in _events(models, entity_type="listing", entity_id=listings[0].id)
    ]
    assert first == [("INSERT", "120.00"), ("MODIFY", "99.00"), ("MODIFY", "99.00")]
    removed = _events(models, entity_type="listing", entity_id=listings[1].id)
    assert [e.event for e in removed] == ["INSERT", "MODIFY", "REMOVE"]
    assert removed[-1].new is None and json.loads(removed[-1].old)["id"] == listings[1].id
    assert {e.actor for e in _events(models, entity_type="listing", entity_id=listings[2].id)} == {
        "api-key:k2",
        "api-key:editor",
    }
    assert history_verify(tenant_models=models).ok


def test_the_daily_counts_count_each_appended_event_and_creation_once(provisioned_tenant):
    """Read twice from the start, the stream's records are appended, and counted, once."""
    from resale.models import StreamShard

    tenant = provisioned_tenant()
    models = models_of(tenant)
    listings = [listing_create(models) for _ in range(3)]
    listing_change(listings[0], price="99.00")
    order_create(models, listing_id=listings[1].id)
    drain(in_process_consumer("first"))
    StreamShard.objects.filter(tenant_slug=tenant.slug).update(checkpoint="", lease_owner="")
    drain(in_process_consumer("second"))

    today = daily_counts(tenant_models=models, days=2)[-1]
    assert (today.events, today.listings, today.orders) == (5, 3, 1)
    assert today.events == len(_events(models))


def test_a_consumer_reading_again_from_the_start_appends_nothing_twice(provisioned_tenant):
    from resale.models import StreamShard

    tenant = provisioned_tenant()
    models = models_of(tenant)
    for _ in range(3):
        listing_create(models)
    drain(in_process_consumer("first"))
    StreamShard.objects.filter(tenant_slug=tenant.slug).update(checkpoint="", lease_owner="")
    drain(in_process_consumer("second"))
    assert [event.seq for event in _events(models)] == [1, 2, 3]
    assert history_verify(tenant_models=models).ok


def test_secrets_never_reach_the_history_in_any_form_and_personal_data_only_sealed(provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    listing = listing_create(models)
    order_create(
        models,
        listing_id=listing.id,
        buyer_email="ada@example.com",
        payment_token_sealed="gAAAAA-sealed-token",
        idempotency_key="idem-secret-1",
    )
    drain(in_process_consumer())
    (order_event,) = _events(models, entity_type="order")
    stored = order_event.new
    for kept_out in ("fp_secret_123", "gAAAAA-sealed-token", "idem-secret-1", "payment_token", "idempotency"):
        assert kept_out not in stored
    for personal in ("buyer-1", "ada@example.com", "Main St", "Ada Lovelace"):
        assert personal not in stored
    new = json.loads(stored)
    envelopes = [new[name] for name in ("buyer_id", "buyer_email", "shipping_address")]
    assert {envelope["erasable"] for envelope in envelopes} == {"A256GCM"}
    assert len({envelope["kid"] for envelope in envelopes}) == 1
    assert new["status"] == "submitted" and new["listing_id"] == listing.id


def test_an_event_altered_in_storage_is_detected_and_named(provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    for _ in range(6):
        listing_create(models)
    drain(in_process_consumer())
    assert history_verify(tenant_models=models).ok
    tenant_dynamodb_client(tenant).update_item(
        TableName=models.history.Meta.table_name,
        Key={"chain": {"S": "events"}, "seq": {"N": "4"}},
        UpdateExpression="SET actor = :someone",
        ExpressionAttributeValues={":someone": {"S": "api-key:innocent"}},
    )
    verification = history_verify(tenant_models=models)
    assert (verification.ok, verification.events, verification.first_bad_seq) == (False, 6, 4)


def test_a_deleted_event_is_detected_and_named(provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    for _ in range(4):
        listing_create(models)
    drain(in_process_consumer())
    tenant_dynamodb_client(tenant).delete_item(
        TableName=models.history.Meta.table_name, Key={"chain": {"S": "events"}, "seq": {"N": "4"}}
    )
    verification = history_verify(tenant_models=models)
    assert (verification.ok, verification.first_bad_seq) == (False, 4)
