from rest_framework import status

from httpkit.problems import ProblemError


class OrderNotCancellable(ProblemError):
    status_code = status.HTTP_409_CONFLICT
    title = "Order cannot be cancelled"


class IdempotencyKeyReused(ProblemError):
    """The same Idempotency-Key was sent with a different request body."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    title = "Idempotency key reused"


class OrderContention(ProblemError):
    status_code = status.HTTP_409_CONFLICT
    title = "Listing contended"
