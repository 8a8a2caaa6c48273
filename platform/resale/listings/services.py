"""Writes to a tenant's listings. Each takes the tenant's route and the actor of the write."""

import uuid
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.models import Model

from resale.clock import utc_now
from resale.errors import NotFound
from resale.ids import plausible_id
from resale.listings.attributes import attributes_validate
from resale.listings.errors import InvalidListing, ListingNotAvailable, StaleVersion
from resale.money import InvalidMoney, amount_normalize
from resale.tenancy import TenantRoute

EDITABLE_FIELDS = (
    "seller_id",
    "title",
    "description",
    "category",
    "condition",
    "price",
    "currency",
    "attributes",
)


class ListingStatus:
    ACTIVE = "active"
    RESERVED = "reserved"
    SOLD = "sold"
    WITHDRAWN = "withdrawn"


def _is_condition_failure(exc: PutError | UpdateError | DeleteError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def listing_create(
    *,
    route: TenantRoute,
    actor: str,
    seller_id: str,
    title: str,
    category: str,
    condition: str,
    price: str,
    currency: str,
    description: str = "",
    attributes: dict[str, Any] | None = None,
) -> Model:
    now = utc_now()
    listing = route.models.listings(
        id=uuid.uuid4().hex,
        seller_id=seller_id,
        title=title,
        description=description,
        category=category,
        condition=condition,
        price=amount_normalize(price, currency),
        currency=currency,
        attributes=attributes_validate(route=route, attributes=attributes or {}),
        status=ListingStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        actor=actor,
    )
    listing.save(condition=route.models.listings.id.does_not_exist())
    return listing


def _get_for_write(route: TenantRoute, listing_id: str) -> Model:
    if not plausible_id(listing_id):
        raise NotFound("No such listing.")
    try:
        return route.models.listings.get(listing_id, consistent_read=True)
    except route.models.listings.DoesNotExist as exc:
        raise NotFound("No such listing.") from exc


def listing_update(
    *, route: TenantRoute, actor: str, listing_id: str, expected_version: int, changes: dict[str, Any]
) -> Model:
    """Optimistic update: applies ``changes`` only if the listing is still at ``expected_version``."""
    listing = _get_for_write(route, listing_id)
    if listing.status != ListingStatus.ACTIVE:
        raise ListingNotAvailable(f"This listing is {listing.status}; it can no longer be changed.")
    if listing.version != expected_version:
        raise StaleVersion(f"The listing is at version {listing.version}, not {expected_version}.")
    currency = changes.get("currency", listing.currency)
    if "price" in changes or "currency" in changes:
        try:
            changes["price"] = amount_normalize(changes.get("price", listing.price), currency)
        except InvalidMoney as exc:
            raise InvalidListing(
                "The price does not fit the currency.", errors={"price": [str(exc)]}
            ) from exc
    if "attributes" in changes:
        attributes_validate(route=route, attributes=changes["attributes"])
    model = route.models.listings
    actions = [getattr(model, field).set(value) for field, value in changes.items()]
    actions += [model.updated_at.set(utc_now()), model.actor.set(actor)]
    try:
        listing.update(actions=actions, condition=model.status == ListingStatus.ACTIVE)
    except UpdateError as exc:
        if not _is_condition_failure(exc):
            raise
        current = _get_for_write(route, listing_id)
        if current.status != ListingStatus.ACTIVE:
            raise ListingNotAvailable(
                f"This listing is {current.status}; it can no longer be changed."
            ) from exc
        raise StaleVersion(f"The listing is at version {current.version}, not {expected_version}.") from exc
    return listing


def listing_withdraw(*, route: TenantRoute, actor: str, listing_id: str) -> None:
    """Withdraws an active listing; withdrawing it again is a no-op. Reserved or sold: 409."""
    model = route.models.listings
    listing = _get_for_write(route, listing_id)
    if listing.status == ListingStatus.WITHDRAWN:
        return
    try:
        listing.update(
            actions=[
                model.status.set(ListingStatus.WITHDRAWN),
                model.updated_at.set(utc_now()),
                model.actor.set(actor),
            ],
            condition=model.status == ListingStatus.ACTIVE,
            add_version_condition=False,
        )
    except UpdateError as exc:
        if not _is_condition_failure(exc):
            raise
        current = _get_for_write(route, listing_id)
        if current.status != ListingStatus.WITHDRAWN:
            raise ListingNotAvailable(f"This listing is {current.status}; it cannot be withdrawn.") from exc


IMAGE_ATTACH_ATTEMPTS = 3


def listing_add_image(*, route: TenantRoute, actor: str, listing_id: str, image_key: str) -> Model:
    """Appends an uploaded image to an active listing; attaching the same key again is a no-op.

    The append is conditioned on the version read, so two confirmations of one image at once
    attach it once (the loser reads again and finds it there).
    """
    model = route.models.listings
    for _ in range(IMAGE_ATTACH_ATTEMPTS):
        listing = _get_for_write(route, listing_id)
        if image_key in (listing.image_keys or []):
            return listing
        if listing.status != ListingStatus.ACTIVE:
            raise ListingNotAvailable(f"This listing is {listing.status}; its images can no longer change.")
        try:
            listing.update(
                actions=[
                    model.image_keys.set(model.image_keys.append([image_key])),
                    model.updated_at.set(utc_now()),
                    model.actor.set(actor),
                ],
                condition=model.status == ListingStatus.ACTIVE,
            )
        except UpdateError as exc:
            if not _is_condition_failure(exc):
                raise
            continue
        return listing
    raise StaleVersion("The listing kept changing while the image was attached; retry.")
