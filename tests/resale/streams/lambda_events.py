"""DynamoDB stream records in the shape the event source mapping hands them to the Lambda."""

import json

from django.conf import settings

from resale.binding import local_access_key_id, tenant_streams_client


def lambda_environ(tenant, *, queue_url: str, sqs_endpoint: str) -> dict[str, str]:
    """The environment the program gives the tenant's Lambda, pointed at DynamoDB Local and moto."""
    return {
        "RESALE_TENANT": tenant.slug,
        "RESALE_TABLES": json.dumps(tenant.resources["tables"]),
        "RESALE_EFFECTS_QUEUE_URL": queue_url,
        "AWS_ENDPOINT_URL_DYNAMODB": settings.DYNAMODB_ENDPOINT,
        "AWS_ENDPOINT_URL_SQS": sqs_endpoint,
        "AWS_ACCESS_KEY_ID": local_access_key_id(tenant.slug),
        "AWS_SECRET_ACCESS_KEY": settings.AWS_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": settings.AWS_REGION,
    }


def lambda_stream_records(tenant, role: str) -> list[dict]:
    """The stream's records as the event source mapping hands them to Lambda (JSON: epoch seconds)."""
    arn = tenant.resources["streams"][role]
    streams = tenant_streams_client(tenant)
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )
        for raw in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]:
            change = {
                **raw["dynamodb"],
                "ApproximateCreationDateTime": raw["dynamodb"]["ApproximateCreationDateTime"].timestamp(),
            }
            records.append({**raw, "dynamodb": change, "eventSourceARN": arn})
    return json.loads(json.dumps(records))
