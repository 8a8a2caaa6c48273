"""Reads of links. Links never change once created, so the redirect caches them in-process."""

from dataclasses import dataclass
from threading import Lock

from resale.ids import plausible_id
from resale.tenancy import TenantRoute

CACHE_MAX = 100_000


@dataclass(frozen=True)
class LinkTarget:
    code: str
    target_url: str
    affiliate_id: str | None
    listing_id: str | None


_cache: dict[tuple[str, str], LinkTarget] = {}
_lock = Lock()


def link_target(*, route: TenantRoute, code: str) -> LinkTarget | None:
    if not plausible_id(code):
        return None
    key = (route.models.links.Meta.table_name, code)
    target = _cache.get(key)
    if target is not None:
        return target
    links = route.models.links
    try:
        link = links.get(code)
    except links.DoesNotExist:
        return None
    target = LinkTarget(code, link.target_url, link.affiliate_id, link.listing_id)
    with _lock:
        if len(_cache) >= CACHE_MAX:
            _cache.clear()
        _cache[key] = target
    return target
