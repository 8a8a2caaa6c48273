"""Image uploads for listings: a ticket for a checked type and size, then the upload's confirmation.

An image joins its listing only once it is confirmed and its object is found in storage, so a
listing never points at an upload that did not happen (an expired ticket, a failed upload).
"""

import re
import uuid

from django.conf import settings

from httpkit.problems import ProblemError
from resale.errors import NotFound
from resale.listings.errors import ListingNotAvailable
from resale.listings.selectors import listing_get
from resale.listings.services import ListingStatus, listing_add_image
from resale.media.storage import UploadTicket, media_storage
from resale.tenancy import TenantRoute

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
IMAGE_ID = re.compile(r"[0-9a-f]{32}\.(?:jpg|png|webp|gif|bin)")


class InvalidUpload(ProblemError):
    title = "Invalid input"


class ImageNotUploaded(ProblemError):
    status_code = 409
    title = "Image not uploaded"


def image_key(*, route: TenantRoute, listing_id: str, image_id: str) -> str:
    return f"{route.slug}/listings/{listing_id}/{image_id}"


def image_upload_create(*, route: TenantRoute, listing_id: str, content_type: str, size: int) -> UploadTicket:
    errors = {}
    if content_type not in settings.MEDIA_ALLOWED_TYPES:
        errors["content_type"] = [f"One of {', '.join(settings.MEDIA_ALLOWED_TYPES)}."]
    if size > settings.MEDIA_UPLOAD_MAX_BYTES:
        errors["size"] = [f"At most {settings.MEDIA_UPLOAD_MAX_BYTES} bytes."]
    if errors:
        raise InvalidUpload("This image cannot be uploaded.", errors=errors)
    listing = listing_get(route=route, listing_id=listing_id)
    if listing.status != ListingStatus.ACTIVE:
        raise ListingNotAvailable(f"This listing is {listing.status}; its images can no longer change.")
    image_id = f"{uuid.uuid4().hex}.{EXTENSIONS.get(content_type, 'bin')}"
    key = image_key(route=route, listing_id=listing_id, image_id=image_id)
    return media_storage().upload_ticket(key=key, content_type=content_type, size=size)


def image_upload_complete(*, route: TenantRoute, actor: str, listing_id: str, image_id: str):
    """Attaches an uploaded image to its listing (again: no change); 409 while it is not uploaded."""
    if not IMAGE_ID.fullmatch(image_id):
        raise NotFound("No such image.")
    key = image_key(route=route, listing_id=listing_id, image_id=image_id)
    if not media_storage().exists(key):
        listing_get(route=route, listing_id=listing_id)  # no such listing (or another tenant's): 404
        raise ImageNotUploaded("Upload the image to the ticket's URL first, then confirm it.")
    return listing_add_image(route=route, actor=actor, listing_id=listing_id, image_key=key)
