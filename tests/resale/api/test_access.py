"""Who may call the tenant API: keys, scopes, suspension, quotas, and errors as problem details."""

import os
import signal
import time
from dataclasses import replace

import pytest
from rest_framework.test import APIClient

from tenants.actions import do_revoke_api_key, do_suspend_tenant
from tenants.models import ApiKey
from tenants.tiers import TIERS
from tests.processes import wait_until
from tests.resale.conftest import client_for, listing_body

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def test_a_missing_key_is_401_problem_details(tenant_api):
    tenant_api()
    response = APIClient().get("/api/v1/listings/x")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


@pytest.mark.parametrize("key", ["rk_nope_nope", "garbage", "rk__", "rk_abc_def_ghi"])
def test_a_bad_key_is_401(tenant_api, key):
    tenant_api()
    assert client_for(key).get("/api/v1/listings/x").status_code == 401


def test_a_read_key_cannot_write_403(tenant_api):
    api = tenant_api(scopes=("read",))
    assert api.client.post("/api/v1/listings", listing_body(), format="json").status_code == 403
    assert api.client.get("/api/v1/listings/x").status_code == 404


def test_a_write_only_key_cannot_read_403(tenant_api):
    api = tenant_api(scopes=("write",))
    assert api.client.post("/api/v1/listings", listing_body(), format="json").status_code == 201
    assert api.client.get("/api/v1/listings/x").status_code == 403


def test_an_audit_key_is_403_on_listings(tenant_api):
    api = tenant_api(scopes=("audit",))
    assert api.client.get("/api/v1/listings/x").status_code == 403


@pytest.mark.slow
def test_a_revoked_key_stops_working_within_seconds(tenant_api):
    api = tenant_api()
    assert api.client.get("/api/v1/listings/x").status_code == 404
    do_revoke_api_key(api_key=ApiKey.objects.get(id=api.key_id))
    wait_until(
        lambda: api.client.get("/api/v1/listings/x").status_code == 401, "the 401", timeout=6.5, interval=0.2
    )


@pytest.mark.slow
def test_a_suspended_tenant_is_403_within_seconds_and_others_go_on(tenant_api):
    api, other = tenant_api(), tenant_api()
    assert api.client.get("/api/v1/listings/x").status_code == 404
    do_suspend_tenant(tenant=api.tenant)
    wait_until(
        lambda: api.client.get("/api/v1/listings/x").status_code == 403, "the 403", timeout=6.5, interval=0.2
    )
    assert other.client.get("/api/v1/listings/x").status_code == 404


def test_malformed_json_is_400_problem(tenant_api):
    api = tenant_api()
    response = api.client.post("/api/v1/listings", b'{"title": ', content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_a_json_array_body_is_400(tenant_api):
    api = tenant_api()
    response = api.client.post("/api/v1/listings", b"[1, 2]", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "limit",
    # the API's own limit, and Django's buffer limit, which DRF meets first when reading the body
    ["API_MAX_BODY_BYTES", "DATA_UPLOAD_MAX_MEMORY_SIZE"],
)
def test_an_oversize_body_is_413_problem(tenant_api, settings, limit):
    api = tenant_api()
    body = listing_body(description="x" * (getattr(settings, limit) + 10))
    response = api.client.post("/api/v1/listings", body, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_a_non_json_content_type_is_415_problem(tenant_api):
    api = tenant_api()
    response = api.client.post(
        "/api/v1/listings", b"title=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response["Content-Type"] == "application/problem+json"


def test_an_unknown_api_path_is_404_problem(tenant_api):
    response = tenant_api().client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_one_tenants_flood_is_429_with_retry_after_and_does_not_throttle_another(tenant_api, monkeypatch):
    # A quota small enough that the flood outruns it on any machine, however slow each request is.
    monkeypatch.setitem(TIERS, "standard", replace(TIERS["standard"], requests_per_second=2, burst=30))
    flooder, neighbour = tenant_api(), tenant_api()
    responses = [flooder.client.get("/api/v1/listings/x") for _ in range(60)]
    assert responses[0].status_code == 404
    limited = next(response for response in responses if response.status_code == 429)
    assert int(limited["Retry-After"]) >= 1
    assert limited["Content-Type"] == "application/problem+json"
    assert [neighbour.client.get("/api/v1/listings/x").status_code for _ in range(20)] == [404] * 20


def test_dynamodb_unreachable_is_503_with_retry_after_and_nothing_is_written(tenant_api, settings):
    from resale.tenancy import forget_tenant_routes

    api = tenant_api()
    endpoint = settings.DYNAMODB_ENDPOINT
    settings.DYNAMODB_ENDPOINT = "http://127.0.0.1:9"
    settings.DYNAMODB_CONNECT_TIMEOUT_SECONDS = 0.2
    settings.DYNAMODB_MAX_RETRY_ATTEMPTS = 0
    forget_tenant_routes()
    response = api.client.post("/api/v1/listings", listing_body(seller_id="s-503"), format="json")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response["Content-Type"] == "application/problem+json"
    settings.DYNAMODB_ENDPOINT = endpoint
    forget_tenant_routes()
    assert api.client.get("/api/v1/listings", {"seller_id": "s-503"}).json()["items"] == []


def test_ids_longer_than_any_id_are_404_not_500(tenant_api):
    api = tenant_api()
    huge = "x" * 3000
    assert api.client.get(f"/api/v1/listings/{huge}").status_code == 404
    assert (
        api.client.patch(f"/api/v1/listings/{huge}", {}, format="json", HTTP_IF_MATCH="1").status_code == 404
    )
    assert api.client.get(f"/api/v1/orders/{huge}").status_code == 404
    assert api.client.post(f"/api/v1/orders/{huge}/cancel").status_code == 404
    assert api.client.get(f"/r/{api.slug}/{huge}").status_code == 404


@pytest.mark.slow
def test_a_stalled_dynamodb_costs_a_request_a_bounded_time_then_503_with_retry_after(
    own_dynamodb_local, tenant_api, settings
):
    """DynamoDB Local frozen with SIGSTOP: it still accepts connections but never answers."""
    api = tenant_api()
    created = api.client.post("/api/v1/listings", listing_body(seller_id="s-stall"), format="json").json()
    os.killpg(own_dynamodb_local.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        read = api.client.get(f"/api/v1/listings/{created['id']}")
        write = api.client.post("/api/v1/listings", listing_body(seller_id="s-stall"), format="json")
        elapsed = time.monotonic() - started
    finally:
        os.killpg(own_dynamodb_local.process.pid, signal.SIGCONT)
    assert (read.status_code, write.status_code) == (503, 503)
    assert read["Retry-After"] and write["Retry-After"]
    assert elapsed < 2 * (settings.DYNAMODB_CALL_DEADLINE_SECONDS + 0.5)
    assert api.client.get(f"/api/v1/listings/{created['id']}").status_code == 200
