"""The address of the client a request came from, seen through the platform's own proxies.

Each trusted proxy appends the address it was reached from to ``X-Forwarded-For``, so with
``TRUSTED_PROXY_HOPS`` = N the client is the Nth address from the right: what the outermost
trusted proxy saw. Anything left of it was written by the client and is not believed. With no
trusted proxies (local runs) the header is ignored and the address is ``REMOTE_ADDR``.
"""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    hops = settings.TRUSTED_PROXY_HOPS
    remote = request.META.get("REMOTE_ADDR", "")
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote
    return forwarded[-hops]
