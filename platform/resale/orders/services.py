"""Order submission and cancellation: each one DynamoDB transaction, so nothing is half-written.

Submission reserves the listing (only if it is still ``active``), writes the order and the
Idempotency-Key record together; two buyers racing for one listing cannot both win, and the
same key sent twice at once yields one order. The slow work (payment, shipping, email) runs
afterwards in the Celery workflow (``resale.orders.workflow``).
"""

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from resale.backoff import backoff_delay
from resale.clock import utc_now
from resale.errors import NotFound, is_transient_dynamodb_error
from resale.ids import plausible_id
from resale.listings.errors import ListingNotAvailable
from resale.listings.services import ListingStatus
from resale.orders.errors import IdempotencyKeyReused, OrderContention, OrderNotCancellable
from resale.orders.status import CANCELLABLE_STATUSES, OrderStatus
from resale.orders.tokens import payment_token_fingerprint, payment_token_seal
from resale.tables import OrderStatusChange
from resale.tenancy import TenantRoute

IDEMPOTENCY_TTL = timedelta(hours=24)
SUBMIT_ATTEMPTS = 4


def _request_fingerprint(**fields: Any) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def status_change(status: str, actor: str, reason: str = "") -> OrderStatusChange:
    return OrderStatusChange(status=status, at=utc_now(), actor=actor, reason=reason)


def _replay(route: TenantRoute, key: str, request_fingerprint: str) -> Model | None:
    """The order an unexpired Idempotency-Key already produced, or None."""
    records = route.models.idempotency
    try:
        record = records.get(key, consistent_read=True)
    except records.DoesNotExist:
        return None
    if record.expires_at is not None and record.expires_at <= datetime.now(UTC):
        return None
    if record.request_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used with a different request.",
            errors={"Idempotency-Key": ["Already used for a different order request."]},
        )
    return route.models.orders.get(record.order_id, consistent_read=True)


def order_submit(
    *,
    route: TenantRoute,
    actor: str,
    listing_id: str,
    buyer_id: str,
    shipping_address: dict[str, Any],
    payment_token: str,
    buyer_email: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[Model, bool]:
    """Submits an order; returns it and whether it was created now (False: an idempotent replay)."""
    token_fingerprint = payment_token_fingerprint(payment_token)
    request_fingerprint = _request_fingerprint(
        listing_id=listing_id,
        buyer_id=buyer_id,
        shipping_address=shipping_address,
        payment_token=token_fingerprint,
        buyer_email=buyer_email,
    )
    models = route.models
    for attempt in range(SUBMIT_ATTEMPTS):
        if idempotency_key:
            replayed = _replay(route, idempotency_key, request_fingerprint)
            if replayed is not None:
                return replayed, False
        try:
            listing = models.listings.get(listing_id, consistent_read=True)
        except models.listings.DoesNotExist as exc:
            raise NotFound("No such listing.") from exc
        if listing.status != ListingStatus.ACTIVE:
            # A concurrent request with the same key may have reserved it since we looked.
            replayed = _replay(route, idempotency_key, request_fingerprint) if idempotency_key else None
            if replayed is not None:
                return replayed, False
            raise ListingNotAvailable(f"This listing is {listing.status}.")
        now = utc_now()
        order = models.orders(
            id=uuid.uuid4().hex,
            listing_id=listing_id,
            buyer_id=buyer_id,
            buyer_email=buyer_email,
            status=OrderStatus.SUBMITTED,
            amount=listing.price,
            currency=listing.currency,
            shipping_address=shipping_address,
            payment_token_fingerprint=token_fingerprint,
            payment_token_sealed=payment_token_seal(payment_token),
            idempotency_key=idempotency_key,
            history=[status_change(OrderStatus.SUBMITTED, actor)],
            created_at=now,
            updated_at=now,
            actor=actor,
        )
        try:
            # The token makes a retry of this very transaction (its response lost in transit)
            # succeed again instead of failing on its own writes and answering 409.
            with TransactWrite(connection=models.connection, client_request_token=order.id) as transaction:
                transaction.update(
                    listing,
                    actions=[
                        models.listings.status.set(ListingStatus.RESERVED),
                        models.listings.reserved_order_id.set(order.id),
                        models.listings.updated_at.set(now),
                        models.listings.actor.set(actor),
                    ],
                    condition=models.listings.status == ListingStatus.ACTIVE,
                    add_version_condition=False,
                )
                transaction.save(order, condition=models.orders.id.does_not_exist())
                if idempotency_key:
                    transaction.save(
                        models.idempotency(
                            key=idempotency_key,
                            request_fingerprint=request_fingerprint,
                            order_id=order.id,
                            created_at=now,
                            expires_at=IDEMPOTENCY_TTL,
                        ),
                        condition=models.idempotency.key.does_not_exist()
                        | (models.idempotency.expires_at <= datetime.now(UTC)),
                    )
        except TransactWriteError as exc:
            if is_transient_dynamodb_error(exc):
                raise
            # Lost a race (listing taken, key used, or a conflicting transaction): re-read and decide.
            time.sleep(backoff_delay(attempt, base=0.005, cap=0.05))
            continue
        return order, True
    raise OrderContention("The listing is being bought right now; retry shortly.")


def order_cancel(*, route: TenantRoute, actor: str, order_id: str) -> Model:
    """Cancels an order whose shipping has not started and relists its listing, in one transaction.

    The shipping step claims the order (``shipping_started_at``) before it calls the carrier, and
    this transaction requires that claim to be absent, so a cancel and a shipment never both win.
    """
    models = route.models
    if not plausible_id(order_id):
        raise NotFound("No such order.")
    for _ in range(SUBMIT_ATTEMPTS):
        try:
            order = models.orders.get(order_id, consistent_read=True)
        except models.orders.DoesNotExist as exc:
            raise NotFound("No such order.") from exc
        if order.status == OrderStatus.CANCELLED:
            return order
        if order.status not in CANCELLABLE_STATUSES or order.shipping_started_at:
            raise OrderNotCancellable(
                f"This order is {order.status}; only an order not yet shipped can be cancelled."
            )
        listing = models.listings.get(order.listing_id, consistent_read=True)
        now = utc_now()
        try:
            order_and_listing_update(
                route,
                order,
                listing,
                order_actions=[
                    models.orders.status.set(OrderStatus.CANCELLED),
                    models.orders.history.set(
                        models.orders.history.append([status_change(OrderStatus.CANCELLED, actor)])
                    ),
                    models.orders.payment_token_sealed.remove(),
                    models.orders.updated_at.set(now),
                    models.orders.actor.set(actor),
                ],
                order_condition=(models.orders.status == order.status)
                & models.orders.shipping_started_at.does_not_exist(),
                listing_actions=relist_actions(models, now, actor),
            )
        except TransactWriteError as exc:
            if is_transient_dynamodb_error(exc):
                raise
            continue
        order.refresh(consistent_read=True)
        return order
    raise OrderContention("The order is changing right now; retry shortly.")


def order_and_listing_update(
    route: TenantRoute,
    order: Model,
    listing: Model,
    *,
    order_actions: list,
    order_condition: Condition,
    listing_actions: list,
) -> None:
    """Updates an order and the listing it reserved in one transaction, which fails (TransactWriteError)
    unless ``order_condition`` holds and the listing is still reserved for this order."""
    models = route.models
    with TransactWrite(connection=models.connection, client_request_token=uuid.uuid4().hex) as transaction:
        transaction.update(
            order, actions=order_actions, condition=order_condition, add_version_condition=False
        )
        transaction.update(
            listing,
            actions=listing_actions,
            condition=models.listings.reserved_order_id == order.id,
            add_version_condition=False,
        )


def relist_actions(models, now: str, actor: str) -> list:
    """Puts a reserved listing back on sale (PynamoDB adds the version bump)."""
    return [
        models.listings.status.set(ListingStatus.ACTIVE),
        models.listings.reserved_order_id.remove(),
        models.listings.updated_at.set(now),
        models.listings.actor.set(actor),
    ]
