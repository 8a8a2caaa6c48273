"""Request count and latency for /metrics, by tenant, route pattern and status.

One middleware for every request (the tenant is "-" for the console, the control plane and
anything else not bound to a tenant): it replaces django-prometheus's pair of middlewares,
which cost a dozen label lookups per request on the API's hot path.
"""

import time

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

from httpkit.request_context import current_request_context

REQUESTS = Counter(
    "resale_http_requests_total",
    "HTTP requests by tenant ('-' when none), route pattern and status",
    ["tenant", "route", "status"],
)
LATENCY = Histogram(
    "resale_http_request_seconds",
    "HTTP latency by tenant ('-' when none) and route pattern",
    ["tenant", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class RequestMetricsMiddleware:
    """Labels by the route pattern a request matched (not its path, which would explode the series)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        tenant = current_request_context.get().tenant
        match = getattr(request, "resolver_match", None)
        route = match.route if match else "unmatched"
        REQUESTS.labels(tenant, route, str(response.status_code)).inc()
        LATENCY.labels(tenant, route).observe(time.perf_counter() - started)
        return response
