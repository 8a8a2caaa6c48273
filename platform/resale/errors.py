"""Errors shared by the resale domains, and the translation of DynamoDB failures into 503."""

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from rest_framework import status

from httpkit.problems import ProblemError, ServiceUnavailable

UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "LimitExceededException",
    }
)
UNAVAILABLE_CANCELLATION_CODES = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})


class NotFound(ProblemError):
    status_code = status.HTTP_404_NOT_FOUND
    title = "Not found"


class InvalidCursor(ProblemError):
    title = "Invalid cursor"

    def __init__(self, detail: str = "This cursor does not belong to this query.") -> None:
        super().__init__(detail, errors={"cursor": [detail]})


class DataStoreUnavailable(ServiceUnavailable):
    title = "Data store unavailable"


class WriteUnconfirmed(DataStoreUnavailable):
    """A write was sent but never confirmed: it may have happened. Retrying is safe where the
    write recognises its own earlier success."""

    title = "Write not confirmed"


def is_transient_dynamodb_error(exc: BaseException) -> bool:
    """True for throttling, capacity and connection failures, and for answers DynamoDB did not
    give (a 5xx, or an error with no ``__type``, whose code is then its HTTP status): the
    dependency failed, retry later."""
    if not isinstance(exc, PynamoDBException):
        return isinstance(exc, BotoCoreError)
    if isinstance(exc.cause, BotoCoreError):
        return True
    code = exc.cause_response_code
    if code in UNAVAILABLE_CODES or (code or "").isdigit():
        return True
    if isinstance(exc.cause, ClientError) and exc.cause.response["ResponseMetadata"]["HTTPStatusCode"] >= 500:
        return True
    if isinstance(exc, TransactWriteError) and exc.cancellation_reasons:
        return any(
            r is not None and r.code in UNAVAILABLE_CANCELLATION_CODES for r in exc.cancellation_reasons
        )
    return False


def as_unavailable(exc: BaseException) -> DataStoreUnavailable:
    return DataStoreUnavailable("The data store is busy or unreachable; nothing was written. Retry shortly.")
