"""boto3 clients for DynamoDB and its streams, configured from settings in one place."""

from functools import cache

import boto3
from botocore.config import Config
from django.conf import settings


def _client_kwargs() -> dict:
    kwargs = {"region_name": settings.AWS_REGION}
    if settings.DYNAMODB_ENDPOINT:
        kwargs.update(
            endpoint_url=settings.DYNAMODB_ENDPOINT,
            aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
            aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        )
    return kwargs


@cache
def _cached_client(
    service: str, endpoint: str | None, connect_timeout: float, read_timeout: float, max_attempts: int
):
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        max_pool_connections=settings.DYNAMODB_MAX_POOL_CONNECTIONS,
    )
    return boto3.session.Session().client(service, config=config, **_client_kwargs())


def dynamodb_client(connect_timeout: float = 3, read_timeout: float = 10, max_attempts: int = 3):
    """A shared low-level DynamoDB client; botocore clients are thread-safe."""
    return _cached_client("dynamodb", settings.DYNAMODB_ENDPOINT, connect_timeout, read_timeout, max_attempts)


def dynamodb_streams_client(connect_timeout: float = 3, read_timeout: float = 10, max_attempts: int = 3):
    return _cached_client(
        "dynamodbstreams", settings.DYNAMODB_ENDPOINT, connect_timeout, read_timeout, max_attempts
    )
