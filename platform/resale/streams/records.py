"""A stream record as the handler sees it, whichever driver read it (our consumer or AWS Lambda).

boto3's ``get_records`` and the Lambda event carry the same record in two shapes (a datetime
or epoch seconds for ``ApproximateCreationDateTime``); both become a ``StreamRecord`` with
plain Python images. TTL expiries are told apart from deletes here: on AWS they are ``REMOVE``
records whose user identity is the DynamoDB service principal; DynamoDB Local reports them
under an event name that botocore does not model (seen as ``UNKNOWN_TO_SDK_VERSION``) with
only an old image.
"""

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer

from resale.tables import TENANT_TABLE_MODELS

INSERT, MODIFY, REMOVE, EXPIRE = "INSERT", "MODIFY", "REMOVE", "EXPIRE"
GAP = "GAP"
"""Not a stream event: the history's record of stream records it lost (``history_gap_append``)."""
TTL_PRINCIPAL = "dynamodb.amazonaws.com"

ENTITY_TYPES = {"listings": "listing", "orders": "order", "links": "link", "clicks": "click"}

_deserializer = TypeDeserializer()


class UnknownStreamEvent(Exception):
    """A record that is neither a write, a delete nor a TTL expiry: never silently dropped."""


@dataclass(frozen=True)
class StreamRecord:
    event_id: str
    event: str
    table_role: str
    entity_type: str
    entity_id: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    sequence_number: str | None
    """None for a record the platform makes itself (an erasure), which no stream carried."""
    approximate_at: datetime

    @property
    def image(self) -> dict[str, Any]:
        """The latest known state of the item (new image, or old one for a removal)."""
        return self.new if self.new is not None else (self.old or {})


def plain(value: Any) -> Any:
    """A deserialized DynamoDB value made JSON-ready: numbers as int or decimal string, sets sorted."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((plain(item) for item in value), key=str)
    if isinstance(value, Binary | bytes | bytearray):
        raw = value.value if isinstance(value, Binary) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    return value


def _value(raw: dict) -> Any:
    """One attribute value. An empty map can arrive as ``{}`` (DynamoDB Local's stream output)."""
    if not raw:
        return {}
    if "M" in raw:
        return {name: _value(item) for name, item in raw["M"].items()}
    if "L" in raw:
        return [_value(item) for item in raw["L"]]
    return plain(_deserializer.deserialize(raw))


def _image(raw: dict | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    return {name: _value(value) for name, value in raw.items()}


def classify_event(event_name: str, user_identity: dict | None, old: dict | None, new: dict | None) -> str:
    identity = user_identity or {}
    if identity.get("type") == "Service" and identity.get("principalId") == TTL_PRINCIPAL:
        return EXPIRE
    if event_name in (INSERT, MODIFY, REMOVE):
        return event_name
    if new is None and old is not None:
        return EXPIRE
    raise UnknownStreamEvent(f"stream event {event_name!r} with user identity {identity!r}")


def entity_id_of(table_role: str, keys: dict[str, Any]) -> str:
    model = TENANT_TABLE_MODELS[table_role]
    parts = [str(keys[model._hash_keyname])]
    if model._range_keyname:
        parts.append(str(keys[model._range_keyname]))
    return "#".join(parts)


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromtimestamp(float(value), tz=UTC)


def stream_record_from_raw(raw: dict, table_role: str) -> StreamRecord:
    """Builds a record from boto3's ``get_records`` output or a Lambda event's record (same keys)."""
    change = raw["dynamodb"]
    keys = _image(change["Keys"]) or {}
    old, new = _image(change.get("OldImage")), _image(change.get("NewImage"))
    return StreamRecord(
        event_id=raw["eventID"],
        event=classify_event(raw.get("eventName", ""), raw.get("userIdentity"), old, new),
        table_role=table_role,
        entity_type=ENTITY_TYPES.get(table_role, table_role),
        entity_id=entity_id_of(table_role, keys),
        old=old,
        new=new,
        sequence_number=change["SequenceNumber"],
        approximate_at=_as_datetime(change["ApproximateCreationDateTime"]),
    )
