"""The order workflow after submission: charge -> paid -> ship -> shipped -> completed.

Each step reads the order, does one idempotent thing and moves the order on with a write
conditioned on the status it read, so a step re-run after a crash, or raced by a cancel,
never acts twice: the provider calls are keyed by the order id (a repeated charge returns the
first charge) and a transition whose precondition no longer holds is simply re-read.
Declined payment ends in ``payment_failed`` with the listing active again; completion marks
the listing ``sold``; a cancelled order is refunded (by the same charge key). Every status
change is appended to the order's history and emailed to the buyer (at least once: a worker
killed between sending and recording sends again, the same message under the same Message-ID).
"""

import logging
from collections.abc import Callable
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.models import Model

from resale.clock import utc_now
from resale.errors import is_transient_dynamodb_error
from resale.listings.services import ListingStatus
from resale.orders.services import order_and_listing_update, relist_actions, status_change
from resale.orders.status import TERMINAL_STATUSES, WORKFLOW_ACTOR, OrderStatus
from resale.orders.tokens import payment_token_unseal
from resale.providers.payment import payment_charge, payment_refund
from resale.providers.shipping import shipment_create
from resale.tenancy import TenantRoute

logger = logging.getLogger(__name__)


class TransitionLost(Exception):
    """The order moved on under us (a cancel); the caller re-reads it."""


def _transition_actions(model, to_status: str, reason: str = "") -> list:
    return [
        model.status.set(to_status),
        model.history.set(model.history.append([status_change(to_status, WORKFLOW_ACTOR, reason)])),
        model.updated_at.set(utc_now()),
        model.actor.set(WORKFLOW_ACTOR),
    ]


def _transition(order: Model, to_status: str, extra_actions: list | None = None, reason: str = "") -> None:
    model = type(order)
    try:
        order.update(
            actions=_transition_actions(model, to_status, reason) + (extra_actions or []),
            condition=model.status == order.status,
            add_version_condition=False,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise TransitionLost(order.id) from exc
        raise


def _transition_with_listing(
    route: TenantRoute,
    order: Model,
    to_status: str,
    listing_actions: list,
    reason: str = "",
    extra: list = (),
) -> None:
    """Moves the order and its reserved listing together, in one transaction."""
    models = route.models
    listing = models.listings.get(order.listing_id, consistent_read=True)
    try:
        order_and_listing_update(
            route,
            order,
            listing,
            order_actions=_transition_actions(models.orders, to_status, reason) + list(extra),
            order_condition=models.orders.status == order.status,
            listing_actions=listing_actions,
        )
    except TransactWriteError as exc:
        if is_transient_dynamodb_error(exc):
            raise
        raise TransitionLost(order.id) from exc


def charge_order(route: TenantRoute, order: Model) -> None:
    orders = route.models.orders
    result = payment_charge(
        charge_key=order.id,
        amount=order.amount,
        currency=order.currency,
        token=payment_token_unseal(order.payment_token_sealed),
    )
    if result.approved:
        try:
            _transition(
                order,
                OrderStatus.PAID,
                [orders.payment_reference.set(result.reference), orders.payment_token_sealed.remove()],
            )
        except TransitionLost:
            # Cancelled while we charged: give the money back (the refund is keyed by the charge).
            refund_order(route, type(order).get(order.id, consistent_read=True), force=True)
            raise
        return
    _transition_with_listing(
        route,
        order,
        OrderStatus.PAYMENT_FAILED,
        relist_actions(route.models, utc_now(), WORKFLOW_ACTOR),
        reason=result.reason,
        extra=[orders.payment_token_sealed.remove()],
    )


def ship_order(route: TenantRoute, order: Model) -> None:
    model = type(order)
    if order.shipping_started_at is None:
        try:
            order.update(
                actions=[model.shipping_started_at.set(utc_now())],
                condition=(model.status == OrderStatus.PAID) & model.shipping_started_at.does_not_exist(),
                add_version_condition=False,
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise TransitionLost(order.id) from exc
            raise
    reference = shipment_create(shipment_key=order.id, address=order.shipping_address.as_dict())
    _transition(order, OrderStatus.SHIPPED, [type(order).shipment_reference.set(reference)])


def complete_order(route: TenantRoute, order: Model) -> None:
    listings = route.models.listings
    _transition_with_listing(
        route,
        order,
        OrderStatus.COMPLETED,
        [
            listings.status.set(ListingStatus.SOLD),
            listings.updated_at.set(utc_now()),
            listings.actor.set(WORKFLOW_ACTOR),
        ],
    )


def refund_order(route: TenantRoute, order: Model, force: bool = False) -> None:
    """Refunds whatever was charged under the order's id; recorded once on the order."""
    if order.refund_reference and not force:
        return
    reference = payment_refund(charge_key=order.id)
    if reference == "none" and order.refund_reference:
        return
    order.update(actions=[type(order).refund_reference.set(reference)], add_version_condition=False)


def order_abandon_payment(*, route: TenantRoute, order_id: str, reason: str) -> None:
    """The provider stayed unreachable through every retry: fail the order, relist, refund any charge."""
    order = route.models.orders.get(order_id, consistent_read=True)
    if order.status != OrderStatus.SUBMITTED:
        return
    try:
        _transition_with_listing(
            route,
            order,
            OrderStatus.PAYMENT_FAILED,
            relist_actions(route.models, utc_now(), WORKFLOW_ACTOR),
            reason=reason,
            extra=[route.models.orders.payment_token_sealed.remove()],
        )
    except TransitionLost:
        return
    order.refresh(consistent_read=True)
    notify_buyer(order)


STEPS: dict[str, Callable[[TenantRoute, Model], None]] = {
    OrderStatus.SUBMITTED: charge_order,
    OrderStatus.PAID: ship_order,
    OrderStatus.SHIPPED: complete_order,
}


def status_message_id(order_id: str, status: str) -> str:
    """One Message-ID per order and status: a notification sent twice (at least once, see above)
    is the same message twice, which mail systems and clients recognise and show once."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "resale.local"
    return f"<order.{order_id}.{status}@{domain}>"


def notify_buyer(order: Model) -> None:
    """Emails the buyer each status change not yet notified, then records it as notified."""
    pending = [change for change in order.history if change.status not in set(order.notified or [])]
    for change in pending:
        if order.buyer_email:
            EmailMessage(
                subject=f"Your order {order.id} is {change.status.replace('_', ' ')}",
                body=f"Order {order.id} for listing {order.listing_id} is now {change.status} "
                f"(since {change.at}).",
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[order.buyer_email],
                headers={"Message-ID": status_message_id(order.id, change.status)},
            ).send()
        order.update(
            actions=[type(order).notified.set(type(order).notified.append([change.status]))],
            add_version_condition=False,
        )


def order_advance(*, route: TenantRoute, order_id: str) -> str:
    """Runs the order's remaining steps; returns its final status. Safe to run again at any point."""
    orders = route.models.orders
    while True:
        try:
            order = orders.get(order_id, consistent_read=True)
        except orders.DoesNotExist:
            logger.warning("order %s of %s vanished", order_id, route.slug)
            return "missing"
        notify_buyer(order)
        if order.status in TERMINAL_STATUSES:
            if order.status == OrderStatus.CANCELLED:
                refund_order(route, order)
            return order.status
        try:
            STEPS[order.status](route, order)
        except TransitionLost:
            continue
