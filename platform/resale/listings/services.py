"""Writes to a tenant's listings. Each takes the tenant's route and the actor of the write."""

import uuid
from dataclasses import dataclass
from typing import Any

from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.constants import PUT_ITEM
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.models import Model

from resale.clock import utc_now
from resale.errors import NotFound, WriteUnconfirmed, is_transient_dynamodb_error
from resale.ids import plausible_id
from resale.listings.attributes import attributes_validate
from resale.listings.errors import InvalidListing, ListingNotAvailable, StaleVersion
from resale.money import InvalidMoney, amount_normalize
from resale.tenancy import TenantRoute


class ListingStatus:
    ACTIVE = "active"
    RESERVED = "reserved"
    SOLD = "sold"
    WITHDRAWN = "withdrawn"


def _is_condition_failure(exc: PutError | UpdateError | DeleteError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


@dataclass(frozen=True, slots=True)
class NewListing:
    """A listing as its create wrote it (version 1, no images yet)."""

    id: str
    seller_id: str
    title: str
    description: str
    category: str
    condition: str
    price: str
    currency: str
    attributes: dict[str, Any]
    created_at: str
    updated_at: str
    actor: str
    status: str = ListingStatus.ACTIVE
    version: int = 1
    image_keys: tuple[str, ...] = ()


NEW_ITEM_CONDITION = "(attribute_not_exists (#0) AND attribute_not_exists (#1))"
NEW_ITEM_CONDITION_NAMES = {"#0": "id", "#1": "version"}
"""What ``Model.save`` sends for a new listing: no item under the id (nor its version)."""


def _put_request(table_name: str, listing: NewListing, attributes_map: dict[str, Any]) -> dict[str, Any]:
    """The PutItem that ``Listing(...).save(condition=Listing.id.does_not_exist())`` sends, built directly.

    PynamoDB builds it through a model instance, its attribute descriptors, its defaults and a
    condition expression tree: 0.5 ms of the create's CPU (a third of the request in process),
    for an item whose shape never changes. ``tests/resale/listings/test_create.py`` pins this
    request to PynamoDB's own for the same listing. ``ALL_OLD`` makes a failed condition return
    the item already stored, so a retried write can recognise its own first attempt.
    """
    return {
        "TableName": table_name,
        "Item": {
            "id": {"S": listing.id},
            "actor": {"S": listing.actor},
            "attributes": {"M": attributes_map},
            "category": {"S": listing.category},
            "condition": {"S": listing.condition},
            "created_at": {"S": listing.created_at},
            "currency": {"S": listing.currency},
            "description": {"S": listing.description},
            "image_keys": {"L": []},
            "price": {"S": listing.price},
            "seller_id": {"S": listing.seller_id},
            "status": {"S": listing.status},
            "title": {"S": listing.title},
            "updated_at": {"S": listing.updated_at},
            "version": {"N": "1"},
        },
        "ConditionExpression": NEW_ITEM_CONDITION,
        "ExpressionAttributeNames": NEW_ITEM_CONDITION_NAMES,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _stored_item(error: PutError) -> dict[str, Any] | None:
    """The item a failed condition found (``ALL_OLD``). PynamoDB's ``VerboseClientError`` drops it;
    the ``ClientError`` it was raised from (botocore's or the wire's) keeps it."""
    original = error.cause.__cause__ if error.cause is not None else None
    return getattr(original, "response", {}).get("Item")


def _is_own_write(stored: dict[str, Any] | None, item: dict[str, Any]) -> bool:
    """True when the item under our id is the one this request wrote: the id was drawn for this
    request alone, and the stored creation time and actor are this request's."""
    return stored is not None and all(stored.get(name) == item[name] for name in ("created_at", "actor"))


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
) -> NewListing:
    """Writes a new listing with one conditional PutItem and returns it.

    The wire retries a PutItem whose answer was lost (a read timeout, a 5xx); if the first attempt
    was written, the retry's condition fails on it. That failure returns the stored item, and when
    it is this request's own write the create answers as the first attempt would have. When no
    attempt was confirmed (every one failed), the listing may or may not exist: the 503 says so.
    """
    now = utc_now()
    price = amount_normalize(price, currency)
    attributes = attributes_validate(route=route, attributes=attributes or {})
    listing = NewListing(
        id=uuid.uuid4().hex,
        seller_id=seller_id,
        title=title,
        description=description,
        category=category,
        condition=condition,
        price=price,
        currency=currency,
        attributes=attributes,
        created_at=now,
        updated_at=now,
        actor=actor,
    )
    model = route.models.listings
    table = model._get_connection()
    request = _put_request(table.table_name, listing, model.attributes.serialize(attributes))
    try:
        try:
            table.connection.dispatch(PUT_ITEM, request)
        except BOTOCORE_EXCEPTIONS as exc:
            raise PutError(f"Failed to put item: {exc}", exc) from exc
    except PutError as exc:
        if is_transient_dynamodb_error(exc):
            raise WriteUnconfirmed(
                f"The data store did not confirm the write: listing {listing.id} may or may not "
                "have been created. GET it to know, or retry the create."
            ) from exc
        if _is_condition_failure(exc) and _is_own_write(_stored_item(exc), request["Item"]):
            return listing
        raise
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
