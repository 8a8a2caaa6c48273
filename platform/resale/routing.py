"""Tenant-bound PynamoDB models: the only way the data plane reaches a tenant's tables.

The table names come from the tenant's recorded provisioning outputs, never from request
input. Bound classes are built once per tenant and table set, then reused; they are
immutable after construction, so concurrent requests of different tenants share nothing
through which one could reach the other's table.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock

from django.conf import settings
from pynamodb.models import Model

from resale.tables import TENANT_TABLE_MODELS


class TenantNotRoutable(Exception):
    """The tenant has no recorded tables (not provisioned yet, or offboarded)."""


@dataclass(frozen=True)
class TenantModels:
    slug: str
    listings: type[Model]
    orders: type[Model]
    links: type[Model]
    clicks: type[Model]
    idempotency: type[Model]
    history: type[Model]


def _bind(model: type[Model], *, slug: str, table_name: str) -> type[Model]:
    meta_attributes = {
        "table_name": table_name,
        "region": settings.AWS_REGION,
        "host": settings.DYNAMODB_ENDPOINT,
        "max_pool_connections": settings.DYNAMODB_MAX_POOL_CONNECTIONS,
    }
    if settings.DYNAMODB_ENDPOINT:
        meta_attributes["aws_access_key_id"] = settings.AWS_ACCESS_KEY_ID
        meta_attributes["aws_secret_access_key"] = settings.AWS_SECRET_ACCESS_KEY
    meta = type("Meta", (model.Meta,), meta_attributes)
    namespace = {"Meta": meta, "DoesNotExist": model.DoesNotExist, "__module__": model.__module__}
    return type(f"{model.__name__}[{slug}]", (model,), namespace)


_bound: dict[tuple[str, tuple[tuple[str, str], ...]], TenantModels] = {}
_bound_lock = Lock()


def tenant_models(slug: str, table_names: Mapping[str, str]) -> TenantModels:
    """The model classes bound to one tenant's tables, built on first use and cached."""
    missing = set(TENANT_TABLE_MODELS) - set(table_names)
    if missing:
        raise TenantNotRoutable(f"tenant {slug} has no tables recorded for {sorted(missing)}")
    cache_key = (slug, tuple(sorted((role, table_names[role]) for role in TENANT_TABLE_MODELS)))
    bound = _bound.get(cache_key)
    if bound is not None:
        return bound
    with _bound_lock:
        bound = _bound.get(cache_key)
        if bound is None:
            bound = TenantModels(
                slug=slug,
                **{
                    role: _bind(model, slug=slug, table_name=table_names[role])
                    for role, model in TENANT_TABLE_MODELS.items()
                },
            )
            _bound[cache_key] = bound
    return bound
