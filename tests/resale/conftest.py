"""Fixtures for the tenant API: real tenants (tables in DynamoDB Local), keys, clients."""

import os
from dataclasses import dataclass

import pytest
import urllib3
from rest_framework.test import APIClient

from resale.tenancy import forget_tenant_routes
from tenants.actions import do_issue_api_key
from tenants.api_keys import resolution_cache
from tenants.models import Tenant
from tests.dynamodb_local import free_port


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
        issued = do_issue_api_key(tenant=tenant, name="storefront", scopes=list(scopes))
        return TenantApi(tenant=tenant, key=issued.key, key_id=issued.id, client=client_for(issued.key))

    return make


# A port of this process's own: pytest-xdist runs one live server per worker.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", f"127.0.0.1:{free_port()}")


def order_body(listing_id: str, **overrides) -> dict:
    body = {
        "listing_id": listing_id,
        "buyer_id": "buyer-1",
        "buyer_email": "buyer@example.com",
        "shipping_address": {"name": "Ada", "line1": "1 Main St", "city": "Paris", "country": "FR"},
        "payment_token": "tok_visa_4242",
    }
    body.update(overrides)
    return body


@dataclass
class Sandbox:
    base_url: str

    def set_mode(self, service: str, mode: str, times: int | None = None, delay_seconds: float = 0.5) -> None:
        payload = {"service": service, "mode": mode, "delay_seconds": delay_seconds}
        if times:
            payload["times"] = times
        response = urllib3.request("POST", f"{self.base_url}/sandbox/control", json=payload)
        assert response.status == 200, response.data

    def record(self, kind: str, key: str) -> dict:
        return urllib3.request("GET", f"{self.base_url}/sandbox/records/{kind}/{key}").json()


@pytest.fixture
def sandbox(live_server, settings):
    """The sandbox providers, served by a live server; the workflow is pointed at them."""
    settings.PAYMENT_PROVIDER_URL = f"{live_server.url}/sandbox/payments"
    settings.SHIPPING_PROVIDER_URL = f"{live_server.url}/sandbox/shipping"
    settings.PROVIDER_TIMEOUT_SECONDS = 0.5
    box = Sandbox(live_server.url)
    for service in ("payments", "shipping"):
        box.set_mode(service, "approve")
    return box


@pytest.fixture
def purge_order_queue():
    """Tests that submit through the API queue workflows no worker here runs: drop them after."""
    yield
    from control_plane.celery import app

    app.control.purge()


@pytest.fixture
def dynamodb_calls(monkeypatch):
    """The names of the DynamoDB operations made from now on, in order (every call still goes out)."""
    from pynamodb.connection.base import Connection

    calls: list[str] = []
    dispatch = Connection.dispatch

    def counted(self, operation_name, operation_kwargs):
        calls.append(operation_name)
        return dispatch(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counted)
    return calls
