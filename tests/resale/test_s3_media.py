"""The S3 media backend against an S3-compatible server (moto's, over real HTTP).

No S3 is reachable from here. moto's server speaks S3's protocol (presigned POST, HEAD) but
does not enforce a POST policy's conditions, so the limits are read from the policy the ticket
carries: that document is what S3 enforces.
"""

import base64
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from resale.media.storage import S3MediaStorage
from tests.dynamodb_local import free_port
from tests.resale.conftest import listing_body


@pytest.fixture
def storage(moto_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    storage = S3MediaStorage("media-bucket", moto_endpoint, "us-east-1", ttl=300)
    storage.client.create_bucket(Bucket="media-bucket")
    return storage


def test_a_ticket_uploads_to_its_key_and_only_then_does_the_object_exist(storage):
    ticket = storage.upload_ticket(key="shop/l-1/img-1", content_type="image/png", size=1000)
    assert (ticket.method, ticket.key) == ("POST", "shop/l-1/img-1")
    assert not storage.exists("shop/l-1/img-1")
    uploaded = urllib3.request(
        "POST", ticket.url, fields={**ticket.fields, "file": ("a.png", b"\x89PNG" + b"0" * 60, "image/png")}
    )
    assert uploaded.status == 204
    assert storage.exists("shop/l-1/img-1")
    assert not storage.exists("shop/l-1/img-2")
    stored = storage.client.get_object(Bucket="media-bucket", Key="shop/l-1/img-1")
    assert stored["Body"].read().startswith(b"\x89PNG")
    assert storage.public_url("shop/l-1/img-1") == f"{storage.endpoint}/media-bucket/shop/l-1/img-1"


def test_the_policy_limits_the_upload_to_the_key_the_type_and_the_size(storage):
    ticket = storage.upload_ticket(key="shop/l-1/img-3", content_type="image/jpeg", size=5_000_000)
    policy = json.loads(base64.b64decode(ticket.fields["policy"]))
    conditions = policy["conditions"]
    assert {"bucket": "media-bucket"} in conditions
    assert {"key": "shop/l-1/img-3"} in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, 5_000_000] in conditions
    assert ticket.fields["Content-Type"] == "image/jpeg"
    expires = datetime.fromisoformat(policy["expiration"])
    assert timedelta(seconds=290) < expires - datetime.now(UTC) <= timedelta(seconds=300)


def test_an_unreachable_store_is_an_error_not_an_absent_object(storage):
    closed = f"http://127.0.0.1:{free_port()}"
    unreachable = S3MediaStorage("media-bucket", closed, "us-east-1", ttl=300)
    unreachable.client = boto3.client(
        "s3", region_name="us-east-1", endpoint_url=closed, config=Config(retries={"total_max_attempts": 1})
    )
    with pytest.raises(EndpointConnectionError):
        unreachable.exists("shop/l-1/img-1")


@pytest.mark.ddblocal
@pytest.mark.django_db
def test_through_the_api_an_image_is_attached_once_it_is_in_the_bucket(storage, tenant_api, settings):
    from resale.media.storage import media_storage

    settings.MEDIA_STORAGE_BACKEND = "s3"
    settings.MEDIA_S3_BUCKET = "media-bucket"
    settings.MEDIA_S3_ENDPOINT = storage.endpoint
    media_storage.cache_clear()
    try:
        api = tenant_api()
        listing = api.client.post("/api/v1/listings", listing_body(), format="json").json()
        path = f"/api/v1/listings/{listing['id']}/images"
        ticket = api.client.post(path, {"content_type": "image/webp", "size": 2048}, format="json").json()
        assert ticket["method"] == "POST" and ticket["url"].startswith(storage.endpoint)
        confirm = f"{path}/{ticket['image_id']}"
        assert api.client.post(confirm).status_code == 409
        upload = urllib3.request(
            "POST",
            ticket["url"],
            fields={**ticket["fields"], "file": ("i.webp", b"RIFF0000WEBP", "image/webp")},
        )
        assert upload.status == 204
        confirmed = api.client.post(confirm)
        assert confirmed.status_code == 200
        assert confirmed.json()["images"] == [ticket["image_url"]]
        assert ticket["image_url"].startswith(f"{storage.endpoint}/media-bucket/{api.slug}/")
    finally:
        media_storage.cache_clear()
