"""The platform's consumer of the stream-effects queue on AWS, against SQS served by moto over HTTP:
what the Lambda queues becomes search and webhook effects exactly once, a consumer killed between
the effects and the delete included, and a message that cannot be applied ends in the dead-letter
queue without holding up the others. The history the Lambda appends is signed by the platform's
beat sweep."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import boto3
import pytest
from django.db import connection
from joserfc.jwk import KeySet

from resale.binding import tenant_dynamodb_client
from resale.history.checkpoints import checkpoint_latest, public_jwks
from resale.history.services import read_head
from resale.history.tasks import history_checkpoints_sweep
from resale.history.verify_history import checkpoint_claims
from resale.models import SearchDocument, WebhookDelivery
from resale.streams import lambda_handler
from resale.streams.effects import effects_message
from resale.streams.effects_drainer import DrainerOptions, StreamEffectsDrainer
from resale.streams.effects_queue import stream_effects_apply, stream_effects_receive
from resale.streams.records import stream_record_from_raw
from resale.webhooks.services import webhook_subscription_create
from tenants.tiers import tier_policy
from tests.processes import wait_until
from tests.resale.factories import listing_create, models_of, order_create
from tests.resale.streams.lambda_events import lambda_environ, lambda_stream_records

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
MAX_RECEIVE_COUNT = 3
KILLED_AT_DELETE = """
import os, signal, sys
import django
django.setup()
import boto3
from resale.streams.effects_queue import stream_effects_apply, stream_effects_receive

endpoint, queue_url, tenant_slug = sys.argv[1:4]
sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="k", aws_secret_access_key="s")
sqs.delete_message_batch = lambda **_: os.kill(os.getpid(), signal.SIGKILL)
messages = stream_effects_receive(client=sqs, queue_url=queue_url)
assert messages
stream_effects_apply(client=sqs, queue_url=queue_url, tenant_slug=tenant_slug, messages=messages)
"""


@pytest.fixture
def sqs(moto_endpoint):
    return boto3.client(
        "sqs",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )


@pytest.fixture
def effects_queue(sqs, unique_slug):
    """A tenant's effects queue as the program declares it: a redrive policy to its own dead-letter
    queue; one second of visibility, so that a message taken by a killed consumer is back soon."""

    def make(visibility_seconds: int = 1) -> tuple[str, str]:
        name = unique_slug("fx")
        dead_letters = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dead_letters_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])
        redrive = {
            "deadLetterTargetArn": dead_letters_arn["Attributes"]["QueueArn"],
            "maxReceiveCount": MAX_RECEIVE_COUNT,
        }
        queue = sqs.create_queue(
            QueueName=name,
            Attributes={"VisibilityTimeout": str(visibility_seconds), "RedrivePolicy": json.dumps(redrive)},
        )["QueueUrl"]
        return queue, dead_letters

    return make


@pytest.fixture
def lambda_environment(monkeypatch, moto_endpoint):
    """The Lambda's environment as the program sets it, its clients rebuilt for this test."""

    def configure(tenant, queue_url: str) -> None:
        for name, value in lambda_environ(tenant, queue_url=queue_url, sqs_endpoint=moto_endpoint).items():
            monkeypatch.setenv(name, value)
        # boto3's default session keeps the credentials it first read from the environment: a
        # Lambda container serves one tenant, a test process several.
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        lambda_handler._client.cache_clear()

    yield configure
    lambda_handler._client.cache_clear()


def _writes(tenant) -> None:
    models = models_of(tenant)
    camera = listing_create(models, id="camera", title="Camera")
    camera.price = "99.00"
    camera.save()
    listing_create(models, id="lamp", title="Lamp").delete()
    order_create(models, id="order-1", listing_id="camera")


def _lambda_invoked(tenant) -> int:
    """Each history-feeding stream's records handed to the Lambda, as its event source mappings do."""
    handed = 0
    for role in ("listings", "orders"):
        records = lambda_stream_records(tenant, role)
        assert lambda_handler.handle({"Records": records}, None) == {"batchItemFailures": []}
        handed += len(records)
    return handed


def _drain(sqs, queue_url: str, tenant_slug: str, rounds: int = 20) -> int:
    applied = 0
    for _ in range(rounds):
        messages = stream_effects_receive(client=sqs, queue_url=queue_url)
        if not messages:
            return applied
        applied += stream_effects_apply(
            client=sqs, queue_url=queue_url, tenant_slug=tenant_slug, messages=messages
        )
    return applied


def _queued(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _effects(tenant_slug: str) -> tuple[set, Counter]:
    documents = {
        (document.listing_id, document.status, str(document.price))
        for document in SearchDocument.objects.filter(tenant_slug=tenant_slug)
    }
    deliveries = Counter(
        WebhookDelivery.objects.filter(tenant_slug=tenant_slug).values_list("event_type", "event_id")
    )
    return documents, deliveries


def test_what_the_lambda_queues_is_applied_exactly_once_even_by_a_consumer_killed_before_its_delete(
    provisioned_tenant, effects_queue, lambda_environment, sqs, moto_endpoint, purge_order_queue
):
    tenant = provisioned_tenant()
    webhook_subscription_create(
        tenant_slug=tenant.slug, policy=tier_policy("standard"), url="https://hooks.example/all", events=["*"]
    )
    queue_url, dead_letters = effects_queue(visibility_seconds=1)
    lambda_environment(tenant, queue_url)
    _writes(tenant)
    handed = _lambda_invoked(tenant)
    assert handed == 5 and _queued(sqs, queue_url) == 5

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AT_DELETE, moto_endpoint, queue_url, tenant.slug],
        cwd=ROOT,
        env={
            **os.environ,
            "POSTGRES_DB": connection.settings_dict["NAME"],
            "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "control_plane.settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    after_kill = _effects(tenant.slug)
    assert after_kill[0] or after_kill[1], "the killed consumer applied nothing before its delete"

    time.sleep(1.5)  # the killed consumer's messages become visible again
    assert _drain(sqs, queue_url, tenant.slug) == handed
    documents, deliveries = _effects(tenant.slug)
    assert documents == {("camera", "active", "99.00"), ("lamp", "removed", "120.00")}
    assert sorted(event_type for event_type, _ in deliveries) == [
        "listing.created",
        "listing.created",
        "listing.deleted",
        "listing.updated",
        "order.submitted",
    ]
    assert set(deliveries.values()) == {1}, "an effect applied twice"
    assert _queued(sqs, queue_url) == 0 and _queued(sqs, dead_letters) == 0


def test_the_history_the_lambda_appends_is_signed_by_the_platforms_beat_sweep(
    provisioned_tenant, effects_queue, lambda_environment, purge_order_queue
):
    tenant = provisioned_tenant()
    queue_url, _ = effects_queue()
    lambda_environment(tenant, queue_url)
    _writes(tenant)
    handed = _lambda_invoked(tenant)

    assert history_checkpoints_sweep() == {"signed": 1, "unchanged": 0, "failed": 0}
    models = models_of(tenant)
    head = read_head(tenant_dynamodb_client(tenant), models.history.Meta.table_name)
    checkpoint = checkpoint_latest(tenant_models=models)
    assert head == (handed, checkpoint.hash)
    claims = checkpoint_claims(checkpoint.jws, KeySet.import_key_set(public_jwks()))
    assert (claims["tenant"], claims["seq"], claims["hash"]) == (tenant.slug, *head)


def test_a_message_that_cannot_be_applied_goes_to_the_dead_letter_queue_and_the_others_are_applied(
    provisioned_tenant, effects_queue, sqs, purge_order_queue
):
    tenant, other = provisioned_tenant(), provisioned_tenant()
    queue_url, dead_letters = effects_queue(visibility_seconds=0)
    listing_create(models_of(tenant), id="camera", title="Camera")
    (raw,) = lambda_stream_records(tenant, "listings")
    record = stream_record_from_raw(raw, "listings")
    for body in (
        "not a stream record",
        effects_message(tenant_slug=other.slug, record=record),  # another tenant's: applied to neither
        effects_message(tenant_slug=tenant.slug, record=record),
    ):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    for _ in range(MAX_RECEIVE_COUNT + 2):
        _drain(sqs, queue_url, tenant.slug, rounds=1)
    assert {document.listing_id for document in SearchDocument.objects.filter(tenant_slug=tenant.slug)} == {
        "camera"
    }
    assert not SearchDocument.objects.filter(tenant_slug=other.slug).exists()
    assert _queued(sqs, queue_url) == 0
    assert _queued(sqs, dead_letters) == 2


def test_the_drainer_finds_each_tenants_queue_in_its_outputs_and_applies_what_arrives(
    provisioned_tenant, effects_queue, sqs, moto_endpoint, settings, purge_order_queue
):
    settings.STREAM_EFFECTS_SQS_ENDPOINT = moto_endpoint
    tenant = provisioned_tenant()
    queue_url, _ = effects_queue()
    tenant.resources = {**tenant.resources, "effects_queue_url": queue_url}
    tenant.save(update_fields=["resources"])
    listing_create(models_of(tenant), id="camera", title="Camera")
    (raw,) = lambda_stream_records(tenant, "listings")
    stop = threading.Event()
    drainer = StreamEffectsDrainer(DrainerOptions(wait_seconds=1, discovery_seconds=0.2))
    running = threading.Thread(target=drainer.run, args=(stop,))
    running.start()
    try:
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=effects_message(
                tenant_slug=tenant.slug, record=stream_record_from_raw(raw, "listings")
            ),
        )
        wait_until(
            SearchDocument.objects.filter(tenant_slug=tenant.slug, listing_id="camera").exists,
            "the drainer to apply the message",
            timeout=20,
            interval=0.1,
        )
    finally:
        stop.set()
        running.join(30)
    assert not running.is_alive()
    assert _queued(sqs, queue_url) == 0
