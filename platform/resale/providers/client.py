"""JSON over HTTP to the payment and shipping providers, with timeouts and typed failures."""

import json
from functools import cache
from typing import Any

import urllib3
from django.conf import settings


class ProviderUnavailable(Exception):
    """Timed out, unreachable or a 5xx: the call may be retried (providers are idempotent by key)."""


class ProviderRejected(Exception):
    """A definite refusal (4xx), such as a declined payment."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"provider refused with {status}: {body.get('reason', '')}")
        self.status = status
        self.body = body


@cache
def _pool() -> urllib3.PoolManager:
    return urllib3.PoolManager(maxsize=16, retries=False)


def provider_post(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    timeout = urllib3.Timeout(connect=2.0, read=settings.PROVIDER_TIMEOUT_SECONDS)
    try:
        response = _pool().request(
            "POST",
            url,
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            timeout=timeout,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise ProviderUnavailable(f"{url}: {type(exc).__name__}") from exc
    try:
        body = json.loads(response.data or b"{}")
    except ValueError:
        body = {}
    if response.status >= 500 or response.status == 429:
        raise ProviderUnavailable(f"{url}: HTTP {response.status}")
    if response.status >= 400:
        raise ProviderRejected(response.status, body)
    return body
