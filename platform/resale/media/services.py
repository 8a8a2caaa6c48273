"""Image uploads for listings: checks the declared type and size, then issues a storage ticket."""

import uuid

from django.conf import settings
from httpkit.problems import ProblemError

from resale.listings.services import listing_add_image
from resale.media.storage import UploadTicket, media_storage
from resale.tenancy import TenantRoute

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


class InvalidUpload(ProblemError):
    title = "Invalid input"


def image_upload_create(
    *, route: TenantRoute, actor: str, listing_id: str, content_type: str, size: int
) -> UploadTicket:
    errors = {}
    if content_type not in settings.MEDIA_ALLOWED_TYPES:
        errors["content_type"] = [f"One of {', '.join(settings.MEDIA_ALLOWED_TYPES)}."]
    if size > settings.MEDIA_UPLOAD_MAX_BYTES:
        errors["size"] = [f"At most {settings.MEDIA_UPLOAD_MAX_BYTES} bytes."]
    if errors:
        raise InvalidUpload("This image cannot be uploaded.", errors=errors)
    key = f"{route.slug}/listings/{listing_id}/{uuid.uuid4().hex}.{EXTENSIONS.get(content_type, 'bin')}"
    listing_add_image(route=route, actor=actor, listing_id=listing_id, image_key=key)
    return media_storage().upload_ticket(key=key, content_type=content_type, size=size)
