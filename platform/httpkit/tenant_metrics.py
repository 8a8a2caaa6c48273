"""Per-tenant request and latency series for /metrics."""

import time

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

from httpkit.request_context import current_request_context

TENANT_REQUESTS = Counter(
    "resale_tenant_requests_total", "API requests by tenant, route and status", ["tenant", "route", "status"]
)
TENANT_LATENCY = Histogram(
    "resale_tenant_request_seconds",
    "API latency by tenant and route",
    ["tenant", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class TenantMetricsMiddleware:
    """Counts each request that was bound to a tenant, labelled by its route pattern (not its path)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        tenant = current_request_context.get().tenant
        if tenant != "-":
            match = getattr(request, "resolver_match", None)
            route = match.route if match else "unmatched"
            TENANT_REQUESTS.labels(tenant, route, str(response.status_code)).inc()
            TENANT_LATENCY.labels(tenant, route).observe(time.perf_counter() - started)
        return response
