"""The consumer Lambda as the tenant program declares it: its archive, unpacked alone, run in a
fresh interpreter against DynamoDB Local, builds the same history as the platform's consumer."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pulumi
import pytest

from provisioning.program.consumer_archive import consumer_archive
from resale.history.selectors import event_as_dict, history_iter
from resale.history.verification import history_verify
from resale.models import SearchDocument, WebhookDelivery
from resale.privacy.selectors import personal_data_view
from resale.streams.effects_queue import stream_effects_apply, stream_effects_receive
from resale.webhooks.services import webhook_subscription_create
from tenants.tiers import tier_policy
from tests.resale.factories import (
    drain,
    in_process_consumer,
    listing_create,
    models_of,
    order_create,
)
from tests.resale.streams.lambda_events import lambda_environ, lambda_stream_records

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]

PLATFORM_DIR = Path(__file__).resolve().parents[3] / "platform"
SECRETS = ("fp_secret_123", "gAAAA-sealed-token")
RUNNER = """
import json, sys
sys.path.insert(0, sys.argv[1])
try:
    import django
except ImportError:
    pass
else:
    raise SystemExit("Django is importable: the run would not prove the archive self-contained")
from resale.streams.lambda_handler import handle
answers = [handle(event, None) for event in json.load(sys.stdin)]
platform_only = ("django", "psycopg", "control_plane", "tenants")
assert not any(name.split(".")[0] in platform_only for name in sys.modules)
print(json.dumps(answers))
"""


def _archive_zip(archive: pulumi.AssetArchive, path: Path) -> None:
    """Packs an archive as Pulumi uploads it: each entry's name is its path in the zip."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as packed:
        for name, asset in archive.assets.items():
            if isinstance(asset, pulumi.FileArchive):
                root = Path(asset.path)
                for file in sorted(root.rglob("*")):
                    if file.is_file() and "__pycache__" not in file.parts:
                        packed.write(file, f"{name}/{file.relative_to(root).as_posix()}")
            else:
                packed.write(asset.path, name)


@pytest.fixture(scope="module")
def unpacked_consumer(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("lambda")
    _archive_zip(consumer_archive(PLATFORM_DIR), work / "consumer.zip")
    directory = work / "task"
    directory.mkdir()
    with zipfile.ZipFile(work / "consumer.zip") as packed:
        packed.extractall(directory)
    return directory


def _invoke(directory: Path, tenant, events: list[dict], queue_url: str, moto_endpoint: str) -> list[dict]:
    environment = lambda_environ(tenant, queue_url=queue_url, sqs_endpoint=moto_endpoint)
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUNNER, str(directory)],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        env=environment,
        cwd=directory.parent,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


def _same_writes(models) -> None:
    """One scenario, with fixed ids and times so that two tenants' histories can be compared."""
    times = iter(f"2026-12-02T10:00:{second:02d}.000000Z" for second in range(60))
    camera = listing_create(
        models, id="camera", title="Camera", created_at=next(times), updated_at=next(times)
    )
    camera.price, camera.updated_at = "99.00", next(times)
    camera.save()
    lamp = listing_create(models, id="lamp", title="Lamp", created_at=next(times), updated_at=next(times))
    lamp.delete()
    order = order_create(
        models,
        id="order-1",
        listing_id="camera",
        buyer_email="ada@lovelace.example",
        payment_token_sealed="gAAAA-sealed-token",
        created_at=next(times),
        updated_at=next(times),
    )
    order.status, order.payment_token_sealed, order.updated_at = "paid", None, next(times)
    order.save()


def _comparable(tenant) -> list[dict]:
    """The tenant's events with envelopes opened, per entity in order: streams (shards) of
    different tables interleave differently in each run, an entity's own changes never."""
    models = models_of(tenant)
    view = personal_data_view(models)
    events = []
    for item in history_iter(tenant_models=models):
        event = event_as_dict(item)
        personal = view.of(event) or {}
        for side in ("old", "new"):
            if event[side] is not None:
                event[side] = {**event[side], **personal.get(side, {})}
        events.append(
            {name: event[name] for name in ("event", "entity_type", "entity_id", "old", "new", "actor")}
        )
    return sorted(events, key=lambda event: (event["entity_type"], event["entity_id"]))


def _poisoned(record: dict) -> dict:
    sequence = record["dynamodb"]["SequenceNumber"]
    return {
        **record,
        "eventID": "poison",
        "eventName": "NOT_A_STREAM_EVENT",
        "dynamodb": {**record["dynamodb"], "SequenceNumber": sequence + "5"},
    }


def test_the_declared_lambda_runs_from_its_archive_alone_and_builds_the_history_the_consumer_builds(
    provisioned_tenant, unpacked_consumer, moto_endpoint
):
    on_platform, on_aws = provisioned_tenant(), provisioned_tenant()
    webhook_subscription_create(
        tenant_slug=on_aws.slug, policy=tier_policy("standard"), url="https://hooks.example/aws", events=["*"]
    )
    _same_writes(models_of(on_platform))
    _same_writes(models_of(on_aws))
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    queue_url = sqs.create_queue(QueueName=f"{on_aws.slug}-stream-effects")["QueueUrl"]

    listings = {"Records": lambda_stream_records(on_aws, "listings")}
    orders = lambda_stream_records(on_aws, "orders")
    assert len(orders) == 2
    poison = _poisoned(orders[0])
    answers = _invoke(
        unpacked_consumer,
        on_aws,
        [
            listings,
            listings,  # a retried batch: nothing appended twice
            {"Records": [orders[0], poison, orders[1]]},  # applied up to the poison record
            {"Records": [poison, orders[1]]},  # Lambda's retry from the reported record
            {"Records": [orders[1]]},  # after the retries, the poison record went to the dead-letter queue
        ],
        queue_url,
        moto_endpoint,
    )
    poison_failure = {"batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]}
    assert answers == [{"batchItemFailures": []}] * 2 + [poison_failure] * 2 + [{"batchItemFailures": []}]

    queued: set[str] = set()
    for _ in range(20):  # peek (visibility 0) until a round brings nothing new
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        bodies = {message["Body"] for message in batch.get("Messages", [])}
        if bodies <= queued:
            break
        queued |= bodies
    assert len(queued) == 6
    assert not any(secret in body for body in queued for secret in SECRETS)
    while stream_effects_apply(
        client=sqs,
        queue_url=queue_url,
        tenant_slug=on_aws.slug,
        messages=stream_effects_receive(client=sqs, queue_url=queue_url),
    ):
        pass
    documents = SearchDocument.objects.filter(tenant_slug=on_aws.slug)
    assert {(d.listing_id, d.status) for d in documents} == {("camera", "active"), ("lamp", "removed")}
    deliveries = WebhookDelivery.objects.filter(tenant_slug=on_aws.slug)
    assert {"order.submitted", "order.paid", "listing.created"} <= set(
        deliveries.values_list("event_type", flat=True)
    )

    drain(in_process_consumer())  # the platform's consumer: builds on_platform's, finds on_aws's done
    aws_history = _comparable(on_aws)
    assert len(aws_history) == 6
    assert aws_history == _comparable(on_platform)
    assert history_verify(tenant_models=models_of(on_aws)).ok
    stored = json.dumps([event_as_dict(item) for item in history_iter(tenant_models=models_of(on_aws))])
    assert not any(secret in stored for secret in SECRETS) and "ada@lovelace.example" not in stored
