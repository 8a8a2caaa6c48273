"""Signed checkpoints: the chain head, signed with Ed25519, kept in the tenant's history table.

A checkpoint is a compact JWS (EdDSA, RFC 8037) whose payload is ``{"tenant","seq","hash","iat"}``
and whose header names the signing key's ``kid``; it is stored as ``chain="checkpoints"``,
``seq=<head seq>`` with a condition that none exists for that seq, so signers racing to sign one
head store one checkpoint.

One path signs, whichever driver builds the history (the local consumer, or the tenant's Lambda
on AWS): ``history_checkpoints_sweep``, a Celery beat task every ``AUDIT_CHECKPOINT_SECONDS``, on
the platform's workers, where the keys are (the Lambda never holds one). Per consumed tenant it
reads the chain head (one consistent ``GetItem``) and compares its hash with that of the tenant's
latest checkpoint, which the cache remembers (one ``get_many`` for the whole fleet; on a miss, one
``Query`` of the table); only a history that grew is signed. A tenant whose tables fail is logged
and counted, and the sweep goes on to the next.

Keys come from settings (``AUDIT_SIGNING_KEYS``, a JWK set of private keys). All of them are
published at ``/.well-known/jwks.json``; only ``AUDIT_SIGNING_KEY_ID`` signs, so a rotation adds
a key, makes it active and keeps the old one published. Locally a key is generated once into
``AUDIT_SIGNING_KEYS_FILE`` (under ``.local/``, never committed).
"""

import functools
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.cache import cache
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet, OKPKey

from resale.binding import TenantModels, tenant_dynamodb_client, tenant_models
from resale.clock import rfc3339
from resale.cursors import Page
from resale.history.selectors import chain_page
from resale.history.services import read_head
from resale.history.verify_history import SIGNING_ALGORITHM
from resale.streams.consumed_tenants import consumed_tenants

logger = logging.getLogger(__name__)

CHECKPOINTS_CHAIN = "checkpoints"
SIGNED_HASH_CACHE_SECONDS = 24 * 3600
"""How long the cache remembers a tenant's latest signed hash; past it, one ``Query`` reads it again."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    signed_at: str
    jws: str


def _development_keys() -> dict[str, Any]:
    path = settings.AUDIT_SIGNING_KEYS_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = OKPKey.generate_key("Ed25519", parameters={"kid": f"dev-{int(time.time())}"}, private=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"keys": [key.as_dict(private=True)]}, handle)
    return json.loads(path.read_text())


@functools.cache
def signing_keys() -> KeySet:
    """Every configured key (private); a key without a ``kid`` or not Ed25519 is a setup error."""
    raw = json.loads(settings.AUDIT_SIGNING_KEYS) if settings.AUDIT_SIGNING_KEYS else _development_keys()
    keys = KeySet.import_key_set(raw)
    for key in keys:
        if key.kid is None or key.get("crv") != "Ed25519" or not key.is_private:
            raise RuntimeError("AUDIT_SIGNING_KEYS: every key is an Ed25519 private key with a kid")
    return keys


def _active_key() -> OKPKey:
    keys = signing_keys()
    if not settings.AUDIT_SIGNING_KEY_ID:
        return keys.keys[-1]
    return keys.get_by_kid(settings.AUDIT_SIGNING_KEY_ID)


def public_jwks() -> dict[str, Any]:
    """The public half of every key, by ``kid``: what ``/.well-known/jwks.json`` publishes."""
    return {
        "keys": [
            {**key.as_dict(private=False), "alg": SIGNING_ALGORITHM, "use": "sig"} for key in signing_keys()
        ]
    }


def checkpoint_sign(*, tenant_slug: str, seq: int, head_hash: str) -> str:
    key = _active_key()
    payload = {"tenant": tenant_slug, "seq": seq, "hash": head_hash, "iat": int(time.time())}
    with warnings.catch_warnings():
        # The contract names EdDSA (RFC 8037); RFC 9864's "Ed25519" is the same signature.
        warnings.simplefilter("ignore", SecurityWarning)
        return jws.serialize_compact(
            {"alg": SIGNING_ALGORITHM, "kid": key.kid, "typ": "JWT"},
            json.dumps(payload, separators=(",", ":")),
            key,
            algorithms=[SIGNING_ALGORITHM],
        )


def _signed_hash_key(tenant_slug: str) -> str:
    return f"history-signed-hash:{tenant_slug}"


def _checkpoint_put(client, table: str, checkpoint: Checkpoint) -> bool:
    """Stores the checkpoint unless one exists for its seq (a racing signer's); True if stored."""
    try:
        client.put_item(
            TableName=table,
            Item={
                "chain": {"S": CHECKPOINTS_CHAIN},
                "seq": {"N": str(checkpoint.seq)},
                "hash": {"S": checkpoint.hash},
                "signed_at": {"S": checkpoint.signed_at},
                "jws": {"S": checkpoint.jws},
            },
            ConditionExpression="attribute_not_exists(seq)",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def history_checkpoint_create(
    *, tenant_slug: str, tenant_models: TenantModels, signed_hash: str | None = None
) -> Checkpoint | None:
    """Signs the tenant's chain head unless it is the head last signed (``signed_hash``; when not
    given, read from the table) or the history is empty; the new checkpoint, or None."""
    client = tenant_dynamodb_client(tenant_models.tenant)
    table = tenant_models.history.Meta.table_name
    seq, head_hash = read_head(client, table)
    if seq == 0:
        return None
    cache_key = _signed_hash_key(tenant_slug)
    if signed_hash is None:
        latest = checkpoint_latest(tenant_models=tenant_models)
        signed_hash = "" if latest is None else latest.hash
        cache.set(cache_key, signed_hash, timeout=SIGNED_HASH_CACHE_SECONDS)
    if head_hash == signed_hash:
        return None
    checkpoint = Checkpoint(
        seq=seq,
        hash=head_hash,
        signed_at=rfc3339(datetime.now(UTC)),
        jws=checkpoint_sign(tenant_slug=tenant_slug, seq=seq, head_hash=head_hash),
    )
    stored = _checkpoint_put(client, table, checkpoint)
    # Stored now or by a racing signer: either way this head is the latest signed one.
    cache.set(cache_key, head_hash, timeout=SIGNED_HASH_CACHE_SECONDS)
    return checkpoint if stored else None


@dataclass(frozen=True)
class CheckpointSweep:
    signed: int
    unchanged: int
    failed: int


def history_checkpoints_sign_grown() -> CheckpointSweep:
    """Signs the chain head of every consumed tenant whose history grew since its last checkpoint
    (what ``history_checkpoints_sweep`` runs); a tenant that fails is logged and counted."""
    tenants = [tenant for tenant in consumed_tenants() if tenant.resources.get("tables")]
    signed_hashes = cache.get_many([_signed_hash_key(tenant.slug) for tenant in tenants])
    signed = failed = 0
    for tenant in tenants:
        try:
            checkpoint = history_checkpoint_create(
                tenant_slug=tenant.slug,
                tenant_models=tenant_models(tenant),
                signed_hash=signed_hashes.get(_signed_hash_key(tenant.slug)),
            )
        except Exception:
            logger.exception("checkpoint not signed", extra={"tenant": tenant.slug})
            failed += 1
            continue
        if checkpoint is not None:
            signed += 1
    return CheckpointSweep(signed=signed, unchanged=len(tenants) - signed - failed, failed=failed)


def _checkpoint(item: dict[str, dict]) -> Checkpoint:
    return Checkpoint(
        seq=int(item["seq"]["N"]),
        hash=item["hash"]["S"],
        signed_at=item["signed_at"]["S"],
        jws=item["jws"]["S"],
    )


def checkpoints_page(*, tenant_models: TenantModels, cursor: str | None, limit: int) -> Page:
    """The tenant's checkpoints, oldest first, ``limit`` at a time (a bad cursor: ``InvalidCursor``)."""
    page = chain_page(tenant_models=tenant_models, chain=CHECKPOINTS_CHAIN, cursor=cursor, limit=limit)
    return Page(items=[_checkpoint(item) for item in page.items], next_cursor=page.next_cursor)


def checkpoint_latest(*, tenant_models: TenantModels) -> Checkpoint | None:
    response = tenant_dynamodb_client(tenant_models.tenant).query(
        TableName=tenant_models.history.Meta.table_name,
        KeyConditionExpression="chain = :chain",
        ExpressionAttributeValues={":chain": {"S": CHECKPOINTS_CHAIN}},
        ScanIndexForward=False,
        Limit=1,
    )
    items = response.get("Items", [])
    return _checkpoint(items[0]) if items else None


def checkpoints_iter(*, tenant_models: TenantModels):
    """Every checkpoint, oldest first, page by page."""
    cursor = None
    while True:
        page = checkpoints_page(tenant_models=tenant_models, cursor=cursor, limit=100)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return
