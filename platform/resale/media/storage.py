"""Where listing images live: a storage interface with a local backend and an S3 backend.

Clients never send image bytes through the API: they ask for an upload ticket (a presigned
URL limited to one key, one content type and a maximum size, valid for a few minutes),
upload straight to storage, then confirm; only a confirmed image whose object exists is
attached to the listing. The local backend's tickets point at the platform's own upload
view (``/media-upload/<token>``) and its files are served back under ``/media/``; the S3
backend's tickets are S3 presigned POSTs whose policy enforces the same limits.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Protocol

import boto3
from botocore.exceptions import ClientError
from django.conf import settings
from django.core import signing

from resale.clock import rfc3339

UPLOAD_SALT = "resale.media.upload"


@dataclass(frozen=True)
class UploadTicket:
    key: str
    url: str
    method: str
    expires_at: str
    image_url: str
    fields: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class MediaStorage(Protocol):
    def upload_ticket(self, *, key: str, content_type: str, size: int) -> UploadTicket: ...

    def public_url(self, key: str) -> str: ...

    def exists(self, key: str) -> bool: ...


def _expires_at(seconds: int) -> str:
    return rfc3339(datetime.now(UTC) + timedelta(seconds=seconds), fraction=False)


class LocalMediaStorage:
    """Files under ``MEDIA_ROOT``; uploads go to a signed, single-key URL on the platform itself."""

    def __init__(self, root: Path, base_url: str, ttl: int) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl

    def upload_ticket(self, *, key: str, content_type: str, size: int) -> UploadTicket:
        token = signing.dumps({"key": key, "type": content_type, "size": size}, salt=UPLOAD_SALT)
        return UploadTicket(
            key=key,
            url=f"{self.base_url}/media-upload/{token}",
            method="PUT",
            headers={"Content-Type": content_type},
            expires_at=_expires_at(self.ttl),
            image_url=self.public_url(key),
        )

    def public_url(self, key: str) -> str:
        return f"{self.base_url}/media/{key}"

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    def path_of(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("key escapes the media root")
        return path


def local_upload_claim(token: str, max_age: int) -> dict:
    """The key, type and size a local upload token allows; raises signing.BadSignature."""
    return signing.loads(token, salt=UPLOAD_SALT, max_age=max_age)


class S3MediaStorage:
    """A bucket on S3, or on an S3-compatible endpoint (``endpoint``: path-style URLs there)."""

    def __init__(self, bucket: str, endpoint: str | None, region: str, ttl: int) -> None:
        self.bucket = bucket
        self.endpoint = endpoint
        self.ttl = ttl
        self.client = boto3.client("s3", region_name=region, endpoint_url=endpoint)

    def upload_ticket(self, *, key: str, content_type: str, size: int) -> UploadTicket:
        post = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size]],
            ExpiresIn=self.ttl,
        )
        return UploadTicket(
            key=key,
            url=post["url"],
            method="POST",
            fields=post["fields"],
            expires_at=_expires_at(self.ttl),
            image_url=self.public_url(key),
        )

    def public_url(self, key: str) -> str:
        if self.endpoint:
            return f"{self.endpoint.rstrip('/')}/{self.bucket}/{key}"
        return f"https://{self.bucket}.s3.amazonaws.com/{key}"

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True


@cache
def media_storage() -> MediaStorage:
    if settings.MEDIA_STORAGE_BACKEND == "s3":
        return S3MediaStorage(
            settings.MEDIA_S3_BUCKET,
            settings.MEDIA_S3_ENDPOINT,
            settings.AWS_REGION,
            settings.MEDIA_UPLOAD_URL_SECONDS,
        )
    return LocalMediaStorage(
        Path(settings.MEDIA_ROOT), settings.PUBLIC_BASE_URL, settings.MEDIA_UPLOAD_URL_SECONDS
    )
