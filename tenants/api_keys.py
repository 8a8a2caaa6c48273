"""API keys: issued once in clear, stored hashed, resolved to a tenant on every API request.

A key reads ``rk_<id>_<secret>``. The id finds the row; the secret is compared by its SHA-256
in constant time. Resolutions are cached in-process for a few seconds, so a revoke or a
suspension takes effect within ``RESOLUTION_TTL_SECONDS`` on every server.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from threading import Lock

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from tenants.models import ApiKey, Tenant
from tenants.services import record_tenant_event

KEY_PREFIX = "rk"
RESOLUTION_TTL_SECONDS = 5.0


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


class _ResolutionCache:
    def __init__(self, ttl: float):
        self.ttl = ttl
        self._entries: dict[str, tuple[float, ApiKeyPrincipal | None]] = {}
        self._lock = Lock()

    def get(self, raw_key: str) -> tuple[bool, ApiKeyPrincipal | None]:
        entry = self._entries.get(raw_key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, raw_key: str, principal: ApiKeyPrincipal | None) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[raw_key] = (time.monotonic() + self.ttl, principal)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


resolution_cache = _ResolutionCache(RESOLUTION_TTL_SECONDS)


def _parse(raw_key: str) -> tuple[str, str] | None:
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def _lookup(raw_key: str) -> ApiKeyPrincipal | None:
    parsed = _parse(raw_key)
    if parsed is None:
        return None
    key_id, secret = parsed
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
    """The principal of a raw key, or None for an unknown, malformed or revoked key."""
    hit, principal = resolution_cache.get(raw_key)
    if hit:
        return principal
    principal = _lookup(raw_key)
    resolution_cache.put(raw_key, principal)
    return principal
