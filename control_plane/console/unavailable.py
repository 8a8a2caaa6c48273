"""A console page whose DynamoDB or Redis is down answers 503 with Retry-After, not a stack trace."""

import logging
from collections.abc import Callable
from functools import wraps

from botocore.exceptions import BotoCoreError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_redis.exceptions import ConnectionInterrupted
from pynamodb.exceptions import PynamoDBConnectionError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DEPENDENCY_ERRORS = (
    PynamoDBConnectionError,
    BotoCoreError,
    ConnectionInterrupted,
    RedisConnectionError,
    RedisTimeoutError,
)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    response = render(request, "console/unavailable.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def answers_503_when_a_dependency_fails(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DEPENDENCY_ERRORS:
            logger.exception("console page %s: a dependency failed", request.path)
            return unavailable_response(request)

    return wrapped
