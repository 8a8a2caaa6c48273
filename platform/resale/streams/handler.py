"""The one handler that turns stream records into effects, whichever driver delivered them.

Effects, in this order, each idempotent on the record's event id: the history append (a
marker per record, see ``resale.history.services``), the search document (versioned upsert),
the webhook deliveries (unique per subscription and event; an erased buyer's data already
``"[erased]"`` in their payloads, see ``resale.privacy.services``). A driver acknowledges records
(checkpoint, or a successful Lambda return) only after this returns, so a crash at any point
replays the records and the effects come out the same.
"""

from dataclasses import dataclass

from django.db import transaction

from resale.binding import TenantRef, tenant_dynamodb_client, tenant_models
from resale.history.services import history_append
from resale.privacy.services import webhook_events_without_erased_buyers
from resale.search.services import search_documents_apply
from resale.streams.records import StreamRecord
from resale.webhooks.events import webhook_event_for
from resale.webhooks.services import webhook_deliveries_create


@dataclass(frozen=True)
class BatchResult:
    appended: int
    duplicates: int


def apply_stream_records(*, tenant: TenantRef, records: list[StreamRecord]) -> BatchResult:
    """Applies one shard's records, in their order, to the tenant's history, search and webhooks."""
    if not records:
        return BatchResult(appended=0, duplicates=0)
    models = tenant_models(tenant)
    tenant_slug = tenant.slug
    appended = history_append(
        client=tenant_dynamodb_client(tenant), table=models.history.Meta.table_name, records=records
    )
    apply_stream_effects(tenant_slug=tenant_slug, records=records)
    return BatchResult(appended=len(appended.appended), duplicates=appended.duplicates)


def apply_stream_effects(*, tenant_slug: str, records: list[StreamRecord]) -> None:
    """The effects beside the history (search, webhooks); on AWS they come through the effects queue."""
    search_documents_apply(tenant_slug=tenant_slug, records=records)
    events = [event for event in (webhook_event_for(record=record) for record in records) if event]
    # One transaction: an erasure recorded after the check waits for the deliveries' commit.
    with transaction.atomic():
        events = webhook_events_without_erased_buyers(tenant_slug=tenant_slug, events=events)
        webhook_deliveries_create(tenant_slug=tenant_slug, events=events)
