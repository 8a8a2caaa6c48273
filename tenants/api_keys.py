"""API keys: issued once in clear, stored hashed, resolved to a tenant on every API request.

A key reads ``rk_<id>_<secret>``. The id finds the row; the secret is compared by its SHA-256
in constant time. Resolutions are cached in-process for a few seconds, so a revoke or a
suspension takes effect within ``RESOLUTION_TTL_SECONDS`` on every server.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from tenants.lookup_cache import LookupCache
from tenants.models import ApiKey, Tenant
from tenants.services import record_tenant_event

KEY_PREFIX = "rk"
KEY_SHAPE = re.compile(rf"{KEY_PREFIX}_(?P<id>[0-9a-f]{{16}})_(?P<secret>[A-Za-z0-9_-]{{43}})")
RESOLUTION_TTL_SECONDS = 5.0
MAX_REMEMBERED_BAD_KEYS = 10_000


@dataclass(frozen=True)
class IssuedApiKey:
    id: str
    key: str
    scopes: list[str]
    name: str


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """Who is calling: the key's id and scopes and its tenant, as of the last resolution."""

    key_id: str
    scopes: frozenset[str]
    tenant_id: int
    tenant_slug: str
    tenant_status: str
    tenant_tier: str

    @property
    def actor(self) -> str:
        return f"api-key:{self.key_id}"


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_issue(
    *, tenant: Tenant, name: str, scopes: list[str], actor: AbstractBaseUser | None = None
) -> IssuedApiKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    scopes = sorted(set(scopes))
    with transaction.atomic():
        ApiKey.objects.create(
            id=key_id,
            tenant=tenant,
            name=name,
            scopes=scopes,
            secret_hash=_hash_secret(secret),
            created_by=actor,
        )
        record_tenant_event(tenant=tenant, action="api_key.issued", actor=actor, key_id=key_id, scopes=scopes)
    return IssuedApiKey(id=key_id, key=f"{KEY_PREFIX}_{key_id}_{secret}", scopes=scopes, name=name)


def api_key_revoke(*, api_key: ApiKey, actor: AbstractBaseUser | None = None) -> ApiKey:
    with transaction.atomic():
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
            record_tenant_event(
                tenant=api_key.tenant, action="api_key.revoked", actor=actor, key_id=api_key.id
            )
    return api_key


resolution_cache: LookupCache[ApiKeyPrincipal] = LookupCache(
    ttl=lambda: RESOLUTION_TTL_SECONDS, max_missing=MAX_REMEMBERED_BAD_KEYS
)
"""Resolutions by raw key; bad keys are remembered in a bounded LRU (``tenants.lookup_cache``)."""


def _parse(raw_key: str) -> tuple[str, str] | None:
    """The key's id and secret, or None for anything not shaped as ``api_key_issue`` makes keys."""
    shaped = KEY_SHAPE.fullmatch(raw_key)
    return None if shaped is None else (shaped["id"], shaped["secret"])


def _lookup(key_id: str, secret: str) -> ApiKeyPrincipal | None:
    api_key = ApiKey.objects.select_related("tenant").filter(id=key_id, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash_secret(secret)):
        return None
    tenant = api_key.tenant
    return ApiKeyPrincipal(
        key_id=api_key.id,
        scopes=frozenset(api_key.scopes),
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        tenant_status=tenant.status,
        tenant_tier=tenant.tier,
    )


def resolve_api_key(raw_key: str) -> ApiKeyPrincipal | None:
    """The principal of a raw key, or None for an unknown, malformed or revoked key.

    A malformed key costs no query and takes no cache entry."""
    parsed = _parse(raw_key)
    if parsed is None:
        return None
    hit, principal = resolution_cache.get(raw_key)
    if hit:
        return principal
    principal = _lookup(*parsed)
    resolution_cache.put(raw_key, principal)
    return principal
