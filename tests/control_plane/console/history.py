"""A tenant history written straight into its table, as the stream consumer would have chained and
counted it."""

from datetime import UTC, datetime, timedelta

from resale.binding import TenantModels, tenant_dynamodb_client
from resale.clock import rfc3339
from resale.history.chain import CHAIN_VERSION, canonical_json, event_hash
from resale.history.daily_counts import daily_counts_updates
from resale.history.services import EVENTS_CHAIN, HEAD_CHAIN


def history_write(tables: TenantModels, events: list[dict], *, start: datetime | None = None) -> list:
    """Writes the events (seq 1, 2, ...) with the chain's real hashes and its head, so that
    ``history_verify`` holds until a test alters the stored items. Each spec may name ``event``,
    ``entity_type``, ``entity_id``, ``old``, ``new``, ``actor`` and ``at``."""
    start = start or datetime.now(UTC) - timedelta(minutes=len(events))
    written, contents, prev_hash = [], [], "0" * 64
    for seq, spec in enumerate(events, start=1):
        at = datetime.fromisoformat(spec["at"]) if "at" in spec else start + timedelta(minutes=seq)
        content = {
            "seq": seq,
            "chain_version": CHAIN_VERSION,
            "event": spec.get("event", "MODIFY"),
            "entity_type": spec.get("entity_type", "listing"),
            "entity_id": spec.get("entity_id", "l-1"),
            "old": spec.get("old"),
            "new": spec.get("new"),
            "actor": spec.get("actor", "api-key:abc"),
            # The consumer writes every change time as RFC 3339 UTC with microseconds.
            "at": rfc3339(at),
            "source": f"listings#event-{seq}",
            "stream_sequence": None,
            "recorded_at": None,
            "prev_hash": prev_hash,
        }
        content["hash"] = event_hash(content)
        contents.append(dict(content))
        for side in ("old", "new"):
            content[side] = canonical_json(content[side]) if content[side] is not None else None
        item = tables.history(
            EVENTS_CHAIN, entity_key=f"{content['entity_type']}#{content['entity_id']}", **content
        )
        item.save()
        written.append(item)
        prev_hash = item.hash
    if written:
        client = tenant_dynamodb_client(tables.tenant)
        client.transact_write_items(
            TransactItems=daily_counts_updates(tables.history.Meta.table_name, contents)
        )
        client.put_item(
            TableName=tables.history.Meta.table_name,
            Item={
                "chain": {"S": HEAD_CHAIN},
                "seq": {"N": "0"},
                "head_seq": {"N": str(len(written))},
                "head_hash": {"S": prev_hash},
            },
        )
    return written
