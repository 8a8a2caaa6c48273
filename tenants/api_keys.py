"""API keys: issued once in clear, stored hashed, resolved to a tenant on every API request.

A key reads ``rk_<id>_<secret>``. The id finds the row; the secret is compared by its SHA-256
in constant time. Resolutions are cached in-process for a few seconds, so a revoke or a
suspension takes effect within ``RESOLUTION_TTL_SECONDS`` on every server.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass

from tenants.lookup_cache import LookupCache
from tenants.models import ApiKey

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


def api_key_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


resolution_cache: LookupCache[ApiKeyPrincipal] = LookupCache(
    ttl=lambda: RESOLUTION_TTL_SECONDS, max_missing=MAX_REMEMBERED_BAD_KEYS
)
"""Resolutions by raw key; bad keys are remembered in a bounded LRU (``tenants.lookup_cache``)."""


def _parse(raw_key: str) -> tuple[str, str] | None:
    """The key's id and secret, or None for anything not shaped as ``do_issue_api_key`` makes keys."""
    shaped = KEY_SHAPE.fullmatch(raw_key)
    return None if shaped is None else (shaped["id"], shaped["secret"])


def _lookup(key_id: str, secret: str) -> ApiKeyPrincipal | None:
    api_key = ApiKey.objects.select_related("tenant").filter(id=key_id, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, api_key_secret_hash(secret)):
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
