"""Never silently incomplete: oversized images, poison records and trimmed stream data."""

import hashlib

import pytest
import rfc8785
from botocore.exceptions import ClientError

from resale.history.selectors import event_as_dict, history_iter
from resale.history.verification import history_verify
from tests.processes import wait_until
from tests.resale.factories import (
    api_client_for,
    drain,
    in_process_consumer,
    listing_change,
    listing_create,
    models_of,
)

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def _events(models) -> list[dict]:
    return [event_as_dict(item) for item in history_iter(tenant_models=models)]


def _run_until(consumer, condition, timeout: float = 30) -> None:
    def reached() -> bool:
        if condition():
            return True
        consumer.run_once()
        return False

    wait_until(reached, "the consumer to get there", timeout=timeout)


def test_an_item_too_large_for_the_history_keeps_its_large_parts_as_digests(provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    first, second = "x" * 150_000, "y" * 150_000
    listing = listing_create(models, description=first)
    listing_change(listing, description=second, title="Renamed")
    drain(in_process_consumer())

    inserted, modified = _events(models)
    digest = {"omitted_sha256": hashlib.sha256(rfc8785.dumps(first)).hexdigest(), "bytes": 150_002}
    assert inserted["new"]["description"] == digest and inserted["new"]["title"].startswith("Vintage")
    assert modified["old"]["description"] == digest and modified["new"]["title"] == "Renamed"
    assert (
        modified["new"]["description"]["omitted_sha256"] == hashlib.sha256(rfc8785.dumps(second)).hexdigest()
    )
    assert history_verify(tenant_models=models).ok


def test_a_poison_record_becomes_a_dead_letter_and_a_gap_and_the_shard_goes_on(
    provisioned_tenant, monkeypatch
):
    from resale.streams import handler

    tenant = provisioned_tenant()
    models = models_of(tenant)
    good = listing_create(models)
    poison = listing_create(models, title="poison")
    after = listing_create(models)
    real_append = handler.history_append
    tries = []

    def refusing_append(*, client, table, records):
        if any(record.entity_id == poison.id for record in records):
            tries.append(len(records))
            raise ValueError("cannot apply this record")
        return real_append(client=client, table=table, records=records)

    monkeypatch.setattr(handler, "history_append", refusing_append)
    consumer = in_process_consumer()
    _run_until(consumer, lambda: len(_events(models)) == 3)

    events = _events(models)
    assert [(e["event"], e["entity_id"]) for e in events] == [
        ("INSERT", good.id),
        ("GAP", poison.id),
        ("INSERT", after.id),
    ]
    assert events[1]["new"]["reason"] == "unprocessable" and events[1]["new"]["error"] == "ValueError"
    assert len(tries) == 3
    (dead,) = api_client_for(tenant, "audit").get("/api/v1/audit/dead-letters").json()["items"]
    assert dead["seq"] == 2 and "cannot apply this record" in dead["error"]
    assert dead["record"]["dynamodb"]["Keys"]["id"] == {"S": poison.id}
    assert "NewImage" not in dead["record"]["dynamodb"]  # images may hold personal data: never kept
    assert api_client_for(tenant, "read").get("/api/v1/audit/dead-letters").status_code == 403
    verification = history_verify(tenant_models=models)
    assert verification.ok and [gap["seq"] for gap in verification.gaps] == [2]
    listing_create(models)
    _run_until(consumer, lambda: len(_events(models)) == 4)


class TrimmedStream:
    """The real DynamoDB Local stream, except that it says the records after a checkpoint were
    trimmed (DynamoDB Local keeps 24 hours, as AWS does): what a consumer away too long sees."""

    def __init__(self, streams) -> None:
        self.streams = streams

    def get_shard_iterator(self, **kwargs):
        if kwargs.get("ShardIteratorType") == "AFTER_SEQUENCE_NUMBER":
            raise ClientError(
                {"Error": {"Code": "TrimmedDataAccessException", "Message": "trimmed"}}, "GetShardIterator"
            )
        return self.streams.get_shard_iterator(**kwargs)

    def __getattr__(self, name):
        return getattr(self.streams, name)


def test_a_consumer_back_after_its_records_were_trimmed_records_a_gap_naming_shard_and_range(
    provisioned_tenant,
):
    from resale.models import StreamShard

    tenant = provisioned_tenant()
    models = models_of(tenant)
    listing_create(models)
    before = in_process_consumer("before")
    drain(before)
    before.leases.release_all()
    shard = StreamShard.objects.get(tenant_slug=tenant.slug, table_role="listings")
    listing_create(models)

    back = in_process_consumer("back")
    tenant_streams = back.reader._streams
    back.reader._streams = lambda slug: TrimmedStream(tenant_streams(slug))
    drain(back)

    events = _events(models)
    gaps = [event for event in events if event["event"] == "GAP"]
    assert len(gaps) == 1 and gaps[0]["entity_id"] == f"listings#{shard.shard_id}"
    assert gaps[0]["new"]["reason"] == "trimmed" and gaps[0]["new"]["after_sequence"] == shard.checkpoint
    assert gaps[0]["new"]["shard"] == shard.shard_id and gaps[0]["new"]["before_sequence"]
    assert [e["event"] for e in events] == ["INSERT", "GAP", "INSERT"]
    verification = history_verify(tenant_models=models)
    assert verification.ok and [gap["seq"] for gap in verification.gaps] == [2]
