"""What one request of each tenant endpoint costs in tokens of the tenant's ``api`` bucket.

A request that can make several DynamoDB calls (a list reads up to ``API_LIST_READ_BUDGET_PAGES``
pages) or a long PostgreSQL query costs more than a read of one item, so a tenant cannot buy
many times its share of the shared servers with its quota of cheap requests. Endpoints not named
cost 1. Keyed by the URL pattern's name (``resale.api.urls``) and the method.
"""

REQUEST_COSTS: dict[tuple[str, str], int] = {
    ("listing-collection", "GET"): 3,
    ("search", "GET"): 3,
    ("audit-events", "GET"): 3,
    ("audit-verify", "GET"): 20,
    ("audit-report-csv", "GET"): 20,
    ("webhook-deliveries", "GET"): 3,
}


def request_cost(*, url_name: str | None, method: str) -> int:
    return REQUEST_COSTS.get((url_name or "", method), 1)
