"""Stream records as messages for the effects the history builder does not apply itself.

On AWS the Lambda builds the history and hands each applied record to the tenant's
stream-effects queue (SQS); the platform's workers read it and update search and webhooks,
which need PostgreSQL. A message carries one record with the images a webhook may carry
(declared-keepable attributes, personal ones in clear: the tenant's own integrations receive
them; secrets never). Both effects are idempotent (versioned search upserts, one webhook
delivery per subscription and event), so a message delivered twice changes nothing.
"""

import json
from datetime import UTC, datetime

from resale.privacy.declarations import in_clear, keepable_image
from resale.streams.records import StreamRecord
from resale.tables import TENANT_TABLE_MODELS


def effects_message(*, tenant_slug: str, record: StreamRecord) -> str:
    schema = TENANT_TABLE_MODELS[record.table_role]
    return json.dumps(
        {
            "tenant": tenant_slug,
            "event_id": record.event_id,
            "event": record.event,
            "table_role": record.table_role,
            "entity_type": record.entity_type,
            "entity_id": record.entity_id,
            "old": keepable_image(schema, record.old, personal_value=in_clear),
            "new": keepable_image(schema, record.new, personal_value=in_clear),
            "sequence_number": record.sequence_number,
            "approximate_at": record.approximate_at.timestamp(),
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def record_from_effects_message(body: str) -> tuple[str, StreamRecord]:
    """The tenant and the record of one message."""
    message = json.loads(body)
    return message["tenant"], StreamRecord(
        event_id=message["event_id"],
        event=message["event"],
        table_role=message["table_role"],
        entity_type=message["entity_type"],
        entity_id=message["entity_id"],
        old=message["old"],
        new=message["new"],
        sequence_number=message["sequence_number"],
        approximate_at=datetime.fromtimestamp(message["approximate_at"], tz=UTC),
    )
