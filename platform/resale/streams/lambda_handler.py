"""The AWS Lambda driver of the stream handler (the tenant program's event source mapping).

The mapping owns shards, iterators and checkpoints on AWS; this entry point only finds the
tenant and table role of the record's stream ARN and calls the same handler as the
long-running consumer. On failure it reports the first failed record
(``ReportBatchItemFailures``), so Lambda retries from there; records before it are applied,
and re-applied ones are skipped by the handler's idempotency.
"""

import logging
import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
django.setup()

from resale.binding import tenant_ref  # noqa: E402
from resale.streams.handler import apply_stream_records  # noqa: E402
from resale.streams.records import stream_record_from_raw  # noqa: E402
from resale.streams.tenancy import tenant_for_stream_arn  # noqa: E402

logger = logging.getLogger(__name__)


def handle(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    records = event.get("Records", [])
    done = 0
    try:
        while done < len(records):
            arn = records[done]["eventSourceARN"]
            tenant, role = tenant_for_stream_arn(arn)
            run = []
            for raw in records[done:]:
                if raw["eventSourceARN"] != arn:
                    break
                run.append(raw)
            apply_stream_records(
                tenant=tenant_ref(tenant),
                records=[stream_record_from_raw(raw, role) for raw in run],
            )
            done += len(run)
    except Exception:
        logger.exception("stream batch failed; Lambda retries from the first unapplied record")
        return {"batchItemFailures": [{"itemIdentifier": records[done]["dynamodb"]["SequenceNumber"]}]}
    return {"batchItemFailures": []}
