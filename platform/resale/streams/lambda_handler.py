"""The AWS Lambda driver of the stream pipeline: the consumer function the tenant program declares.

It runs from the archive ``provisioning.program.consumer_archive`` builds: no Django, no
control-plane settings, no PostgreSQL. Its configuration is the environment the program sets
(``RESALE_TENANT``, ``RESALE_TABLES`` as JSON role -> table name, ``RESALE_EFFECTS_QUEUE_URL``);
its credentials are the tenant's role, as Lambda hands them over (so its clients are built here,
not by ``resale.binding``, which needs the platform's settings); botocore's own
``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL_SQS`` point it elsewhere for a local run.

Per batch (one event source mapping per stream, so one table role per batch): each record is
parsed, the parsed ones are appended to the tenant's history (idempotent per record, see
``resale.history.services``), then handed to the effects queue for search and webhooks
(``resale.streams.effects``). The answer reports partial batch failures
(``ReportBatchItemFailures``): the first record that could not be parsed (a poison record) or,
when the history or the queue failed, the batch's first record. Lambda retries from there;
records before it are applied, and records applied twice are skipped by the history's markers.
After the mapping's retries a poison record goes to the dead-letter queue, and the stream
moves on.
"""

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from resale.history.services import history_append
from resale.streams.effects import effects_message
from resale.streams.records import StreamRecord, stream_record_from_raw

logger = logging.getLogger(__name__)

SQS_BATCH = 10


@dataclass(frozen=True)
class LambdaSettings:
    tenant: str
    tables: dict[str, str]
    effects_queue_url: str | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "LambdaSettings":
        return cls(
            tenant=environ["RESALE_TENANT"],
            tables=json.loads(environ["RESALE_TABLES"]),
            effects_queue_url=environ.get("RESALE_EFFECTS_QUEUE_URL") or None,
        )


@cache
def _client(service: str):
    """One client per service for the container's life (Lambda reuses a warm container)."""
    return boto3.client(service, config=Config(retries={"max_attempts": 3, "mode": "standard"}))


def table_name_of(stream_arn: str) -> str:
    """``arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`` -> ``<name>``."""
    return stream_arn.split(":table/", 1)[1].split("/stream/", 1)[0]


def _parsed(records: list[dict], roles: Mapping[str, str]) -> tuple[list[StreamRecord], int | None]:
    """The records parsed in order, up to the first that cannot be (its index, or None)."""
    parsed = []
    for index, raw in enumerate(records):
        try:
            parsed.append(stream_record_from_raw(raw, roles[table_name_of(raw["eventSourceARN"])]))
        except Exception:
            logger.exception("poison stream record %s", raw.get("eventID"))
            return parsed, index
    return parsed, None


def _effects_send(settings: LambdaSettings, records: list[StreamRecord]) -> None:
    if settings.effects_queue_url is None:
        return
    for start in range(0, len(records), SQS_BATCH):
        chunk = records[start : start + SQS_BATCH]
        answer = _client("sqs").send_message_batch(
            QueueUrl=settings.effects_queue_url,
            Entries=[
                {
                    "Id": str(number),
                    "MessageBody": effects_message(tenant_slug=settings.tenant, record=record),
                }
                for number, record in enumerate(chunk)
            ],
        )
        if answer.get("Failed"):
            raise RuntimeError(f"the effects queue refused {answer['Failed']}")


def _failure(records: list[dict], index: int) -> dict[str, list[dict[str, str]]]:
    identifier = records[index].get("dynamodb", {}).get("SequenceNumber", "")
    return {"batchItemFailures": [{"itemIdentifier": identifier}]}


def handle(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    settings = LambdaSettings.from_environ(os.environ)
    records = event.get("Records", [])
    roles = {name: role for role, name in settings.tables.items()}
    parsed, poison = _parsed(records, roles)
    try:
        if parsed:
            history_append(client=_client("dynamodb"), table=settings.tables["history"], records=parsed)
            _effects_send(settings, parsed)
    except Exception:
        logger.exception("stream batch failed; Lambda retries it from its first record")
        return _failure(records, 0)
    if poison is not None:
        return _failure(records, poison)
    return {"batchItemFailures": []}
