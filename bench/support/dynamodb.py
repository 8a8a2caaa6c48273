"""DynamoDB Local through the tests' own runner, and raw boto3 clients of it."""

from botocore.config import Config

from support.paths import LOGS
from tests.dynamodb_local import DynamoDBLocal, free_port


def start_dynamodb(port: int | None = None) -> DynamoDBLocal:
    """An in-memory DynamoDB Local (on ``port``, else a free one), its output in the benches' logs."""
    LOGS.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    return DynamoDBLocal(port=port, log=LOGS / f"dynamodb-{port}.log").start()


def raw_dynamodb(endpoint: str, config: Config | None = None, slug: str | None = None):
    """A boto3 client of ``endpoint``; with ``slug``, in that tenant's namespace (its own access key
    id, as ``resale.binding`` signs the tenant's calls)."""
    import boto3

    from resale.binding import local_access_key_id

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=local_access_key_id(slug) if slug else "local",
        aws_secret_access_key="local",
        config=config,
    )
