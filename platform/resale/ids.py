"""Ids in paths: anything longer than an id can be is answered 404 before it reaches DynamoDB
(which would refuse a key over 2 KiB with a validation error)."""

MAX_ID_LENGTH = 128


def plausible_id(value: str) -> bool:
    return 0 < len(value) <= MAX_ID_LENGTH
