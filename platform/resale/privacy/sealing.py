"""What the history keeps of a stream record: declared-keepable attributes, personal ones sealed.

Runs wherever the history is built (the platform's consumer or the Lambda), with the tenant's
DynamoDB client and history table, and nothing else: no settings, no PostgreSQL.
"""

from typing import Any

from pynamodb.attributes import MapAttribute, UnicodeAttribute

from resale.privacy.declarations import ERASED, data_subject_of, keepable_image, ordinary
from resale.privacy.keys import SubjectKey, envelope_seal, subject_key
from resale.streams.records import StreamRecord
from resale.tables import TENANT_TABLE_MODELS


class Erasure(MapAttribute):
    """The history's own record of an erasure: which key was destroyed, when and by whom."""

    erasure_id = ordinary(UnicodeAttribute())
    kid = ordinary(UnicodeAttribute(null=True))
    erased_at = ordinary(UnicodeAttribute())
    actor = ordinary(UnicodeAttribute())


ERASURES_ROLE = "erasures"

RECORD_SCHEMAS: dict[str, type] = {**TENANT_TABLE_MODELS, ERASURES_ROLE: Erasure}
"""The declared schema of every record the history takes, by table role."""


class _SubjectKeys:
    """The keys of the subjects met in one batch, each looked up (or made) once."""

    def __init__(self, client, table: str, created_at: str) -> None:
        self._client, self._table, self._created_at = client, table, created_at
        self._keys: dict[str, SubjectKey | None] = {}

    def of(self, subject: str) -> SubjectKey | None:
        if subject == ERASED:
            return None
        if subject not in self._keys:
            self._keys[subject] = subject_key(
                client=self._client, table=self._table, subject=subject, created_at=self._created_at
            )
        return self._keys[subject]


def _sealed(schema: type, image: dict[str, Any] | None, keys: _SubjectKeys) -> dict[str, Any] | None:
    if image is None:
        return None
    subject = data_subject_of(schema, image)
    key = keys.of(subject) if subject is not None else None

    def seal(name: str, value: Any) -> Any:
        return envelope_seal(key, name, value) if key is not None else ERASED

    return keepable_image(schema, image, personal_value=seal if subject is not None else None)


def history_images(
    *, client, table: str, records: list[StreamRecord], created_at: str
) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """Each record's old and new image as the history keeps them, in the records' order."""
    keys = _SubjectKeys(client, table, created_at)
    images = []
    for record in records:
        schema = RECORD_SCHEMAS[record.table_role]
        images.append((_sealed(schema, record.old, keys), _sealed(schema, record.new, keys)))
    return images
