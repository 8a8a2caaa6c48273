"""/metrics counts every request by tenant, route pattern and status, with its latency."""

import pytest
from django.test import Client
from prometheus_client import REGISTRY


def _count(tenant: str, route: str, status: str) -> float:
    labels = {"tenant": tenant, "route": route, "status": status}
    return REGISTRY.get_sample_value("resale_http_requests_total", labels) or 0.0


@pytest.mark.urls("tests.httpkit.usage_urls")
def test_a_tenants_requests_are_counted_under_its_slug_and_route_pattern(unique_slug):
    slug = unique_slug("metrics")
    client = Client()
    for status in (200, 200, 429):
        client.get(f"/t/{slug}/{status}")
    route = "t/<str:slug>/<int:status>"
    assert _count(slug, route, "200") == 2
    assert _count(slug, route, "429") == 1
    latency = {"tenant": slug, "route": route}
    observed = REGISTRY.get_sample_value("resale_http_request_seconds_count", latency)
    assert observed == 3


def test_requests_of_no_tenant_and_unknown_paths_are_counted_too(db):
    before = _count("-", "healthz", "200"), _count("-", "unmatched", "404")
    client = Client()
    client.get("/healthz")
    client.get("/no/such/path")
    after = _count("-", "healthz", "200"), _count("-", "unmatched", "404")
    assert after == (before[0] + 1, before[1] + 1)
