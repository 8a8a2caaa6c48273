"""Fixtures for the tenant API: real tenants (tables in DynamoDB Local), keys, clients."""

from dataclasses import dataclass

import pytest
from resale.tenancy import forget_tenant_routes
from rest_framework.test import APIClient

from tenants.api_keys import api_key_issue, resolution_cache
from tenants.models import Tenant


@dataclass
class TenantApi:
    tenant: Tenant
    key: str
    key_id: str
    client: APIClient

    @property
    def slug(self) -> str:
        return self.tenant.slug


def listing_body(**overrides) -> dict:
    body = {
        "seller_id": "seller-1",
        "title": "Vintage denim jacket",
        "description": "Worn twice.",
        "category": "clothing",
        "condition": "good",
        "price": "45.00",
        "currency": "EUR",
        "attributes": {"size": "M"},
    }
    body.update(overrides)
    return body


@pytest.fixture(autouse=True)
def _fresh_caches():
    forget_tenant_routes()
    resolution_cache.clear()
    yield
    forget_tenant_routes()
    resolution_cache.clear()


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def tenant_api(provisioned_tenant):
    """A provisioned tenant and a client holding one of its keys (read+write by default)."""

    def make(
        tier: str = "standard", scopes: tuple[str, ...] = ("read", "write"), tenant: Tenant | None = None
    ):
        tenant = tenant or provisioned_tenant(tier=tier)
        issued = api_key_issue(tenant=tenant, name="storefront", scopes=list(scopes))
        return TenantApi(tenant=tenant, key=issued.key, key_id=issued.id, client=client_for(issued.key))

    return make
