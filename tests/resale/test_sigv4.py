"""The wire's SigV4 signer signs exactly as botocore's ``SigV4Auth`` does."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from resale.sigv4 import DynamoDBSigner

WHEN = datetime(2026, 11, 24, 13, 5, 9, tzinfo=UTC)
BODY = b'{"TableName":"t","Key":{"id":{"S":"\xc3\xa9t\xc3\xa9"}}}'


def botocore_headers(url: str, region: str, credentials: Credentials, target: str, body: bytes) -> dict:
    """What botocore's ``SigV4Auth`` adds to the request, its clock stopped at ``WHEN``."""
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target},
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN.replace(tzinfo=None)):
        SigV4Auth(credentials.get_frozen_credentials(), "dynamodb", region).add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize(
    ("url", "host", "region", "credentials"),
    [
        (
            "https://dynamodb.eu-west-1.amazonaws.com/",
            "dynamodb.eu-west-1.amazonaws.com",
            "eu-west-1",
            Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        ),
        (
            "https://dynamodb.us-east-1.amazonaws.com/",
            "dynamodb.us-east-1.amazonaws.com",
            "us-east-1",
            Credentials("ASIAEXAMPLE", "secret/with+chars", "FwoGZXIvYXdzE//session+token=="),
        ),
        ("http://127.0.0.1:8100/", "127.0.0.1:8100", "us-east-1", Credentials("local", "local")),
    ],
)
def test_the_signature_is_botocores_byte_for_byte(url, host, region, credentials):
    target = "DynamoDB_20120810.GetItem"
    expected = botocore_headers(url, region, credentials, target, BODY)
    lines = DynamoDBSigner(host=host, region=region).headers(
        credentials.get_frozen_credentials(), target, BODY, now=WHEN
    )
    signed = dict(line.split(": ", 1) for line in lines)
    assert signed["Authorization"] == expected["Authorization"]
    assert signed["X-Amz-Date"] == expected["X-Amz-Date"]
    assert signed.get("X-Amz-Security-Token") == expected.get("X-Amz-Security-Token")
    assert lines[-1].startswith("Authorization: ")


def test_another_day_another_secret_or_another_body_signs_differently():
    signer = DynamoDBSigner(host="dynamodb.eu-west-1.amazonaws.com", region="eu-west-1")
    credentials = Credentials("AKID", "one").get_frozen_credentials()
    rotated = Credentials("AKID", "two").get_frozen_credentials()
    target = "DynamoDB_20120810.PutItem"

    def signature(creds, body=BODY, when=WHEN):
        return signer.headers(creds, target, body, now=when)[-1]

    first = signature(credentials)
    assert signature(credentials) == first
    assert signature(rotated) != first
    assert signature(credentials, body=BODY + b" ") != first
    assert signature(credentials, when=WHEN.replace(day=25)) != first
