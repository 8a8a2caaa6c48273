"""Crypto-shredding: one AES-256-GCM key per data subject, kept in the tenant's history table.

The history keeps a subject's personal attributes only as envelopes
``{"erasable": "A256GCM", "kid", "ciphertext"}`` (nonce and ciphertext, base64url; the
attribute's name is authenticated with them, so an envelope cannot be moved to another field).
Erasure destroys the key: every copy of the history (API pages, CSV, warehouse exports,
backups of exports) keeps its envelopes and their hashes, and none of them can be read again.

The keys live in the history table itself, next to the events they open, under the tenant's
own credentials: the history builder reaches them wherever it runs (the platform's consumer,
or the Lambda on AWS, which has no PostgreSQL), and one tenant's keys are out of another's reach.
Two items per subject, both ``seq=0``:

- ``chain="subject#<digest>"``: the subject's key id (``kid``), or, once erased, a tombstone
  (``erased_at``, ``erased_by``, ``erasure_id``) that stops a record read later (a retried
  stream batch, the erasure's own scrub) from creating a new key: its personal attributes are
  kept as ``"[erased]"``. The digest is SHA-256 of the subject id: it names no one, but a guess
  can be checked against it, which reveals only that an erasure happened;
- ``chain="key#<kid>"``: the key, deleted by the erasure.

The kid is random, so envelopes link one subject's events together and to nobody.
"""

import base64
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from resale.privacy.declarations import ERASED

ALGORITHM = "A256GCM"
SUBJECT_PREFIX = "subject#"
KEY_PREFIX = "key#"
NONCE_BYTES = 12
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SubjectKey:
    kid: str
    key: bytes


@dataclass(frozen=True)
class Tombstone:
    erasure_id: str
    erased_at: str
    erased_by: str
    kid: str | None


class KeyStoreContended(Exception):
    """A subject's key kept changing under us; the caller's work stays unacknowledged."""


def subject_digest(subject: str) -> str:
    return hashlib.sha256(f"resale.data-subject:{subject}".encode()).hexdigest()


def _item_key(chain: str) -> dict:
    return {"chain": {"S": chain}, "seq": {"N": "0"}}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _aad(kid: str, attribute: str) -> bytes:
    return f"{kid}/{attribute}".encode()


def envelope_seal(key: SubjectKey, attribute: str, value: Any) -> dict[str, str]:
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    sealed = AESGCM(key.key).encrypt(nonce, plaintext, _aad(key.kid, attribute))
    return {"erasable": ALGORITHM, "kid": key.kid, "ciphertext": _b64(nonce + sealed)}


def is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and value.get("erasable") == ALGORITHM and "kid" in value


def envelope_open(key: bytes, attribute: str, envelope: dict[str, str]) -> Any:
    raw = _unb64(envelope["ciphertext"])
    plaintext = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(envelope["kid"], attribute))
    return json.loads(plaintext)


def _tombstone(item: dict) -> Tombstone | None:
    if "erased_at" not in item:
        return None
    return Tombstone(
        erasure_id=item["erasure_id"]["S"],
        erased_at=item["erased_at"]["S"],
        erased_by=item["erased_by"]["S"],
        kid=item.get("kid", {}).get("S"),
    )


def _subject_item(client, table: str, digest: str) -> dict | None:
    return client.get_item(TableName=table, Key=_item_key(SUBJECT_PREFIX + digest), ConsistentRead=True).get(
        "Item"
    )


def _cancelled(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] in (
        "TransactionCanceledException",
        "ConditionalCheckFailedException",
    )


def subject_key(*, client, table: str, subject: str, created_at: str) -> SubjectKey | None:
    """The subject's key, made on first use; None once the subject is erased."""
    digest = subject_digest(subject)
    for _ in range(MAX_ATTEMPTS):
        item = _subject_item(client, table, digest)
        if item is not None:
            if _tombstone(item) is not None:
                return None
            kid = item["kid"]["S"]
            stored = client.get_item(TableName=table, Key=_item_key(KEY_PREFIX + kid), ConsistentRead=True)
            if "Item" in stored:
                return SubjectKey(kid=kid, key=stored["Item"]["key"]["B"])
            continue  # erased between our two reads: the tombstone shows on the next read
        key = SubjectKey(kid=uuid.uuid4().hex, key=AESGCM.generate_key(bit_length=256))
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {
                                **_item_key(SUBJECT_PREFIX + digest),
                                "kid": {"S": key.kid},
                                "created_at": {"S": created_at},
                            },
                            "ConditionExpression": "attribute_not_exists(chain)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {**_item_key(KEY_PREFIX + key.kid), "key": {"B": key.key}},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if not _cancelled(exc):
                raise
            continue  # another writer made the subject's key first (or erased it): read theirs
        return key
    raise KeyStoreContended(f"the key of data subject {digest} kept changing")


def subject_key_destroy(*, client, table: str, subject: str, erased_at: str, erased_by: str) -> Tombstone:
    """Destroys the subject's key and leaves a tombstone; erasing an erased subject changes nothing."""
    digest = subject_digest(subject)
    for _ in range(MAX_ATTEMPTS):
        item = _subject_item(client, table, digest)
        existing = _tombstone(item) if item is not None else None
        if existing is not None:
            return existing
        kid = item["kid"]["S"] if item is not None else None
        tombstone = Tombstone(erasure_id=uuid.uuid4().hex, erased_at=erased_at, erased_by=erased_by, kid=kid)
        put = {
            "TableName": table,
            "Item": {
                **_item_key(SUBJECT_PREFIX + digest),
                "erasure_id": {"S": tombstone.erasure_id},
                "erased_at": {"S": erased_at},
                "erased_by": {"S": erased_by},
                **({"kid": {"S": kid}} if kid else {}),
            },
        }
        if kid is None:
            put["ConditionExpression"] = "attribute_not_exists(chain)"
        else:
            put["ConditionExpression"] = "kid = :kid AND attribute_not_exists(erased_at)"
            put["ExpressionAttributeValues"] = {":kid": {"S": kid}}
        writes = [{"Put": put}]
        if kid is not None:
            writes.append({"Delete": {"TableName": table, "Key": _item_key(KEY_PREFIX + kid)}})
        try:
            client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            if not _cancelled(exc):
                raise
            continue
        return tombstone
    raise KeyStoreContended(f"the key of data subject {digest} kept changing")


def keys_by_kid(*, client, table: str, kids: set[str]) -> dict[str, bytes]:
    """The keys that still exist among ``kids`` (a destroyed one is simply absent)."""
    found: dict[str, bytes] = {}
    pending = sorted(kids)
    while pending:
        chunk, pending = pending[:100], pending[100:]
        request = {table: {"Keys": [_item_key(KEY_PREFIX + kid) for kid in chunk], "ConsistentRead": True}}
        while request:
            answer = client.batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(table, []):
                found[item["chain"]["S"].removeprefix(KEY_PREFIX)] = item["key"]["B"]
            request = answer.get("UnprocessedKeys") or {}
    return found


def envelope_reveal(keys: dict[str, bytes], attribute: str, envelope: dict[str, str]) -> Any:
    """An envelope's value, or ``"[erased]"`` when its key is destroyed."""
    key = keys.get(envelope["kid"])
    if key is None:
        return ERASED
    try:
        return envelope_open(key, attribute, envelope)
    except InvalidTag:
        return ERASED
