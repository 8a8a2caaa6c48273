"""Which URLs a webhook may target: http(s) only, and (in production) no private network.

A tenant chooses the URL and our servers call it, so without this a webhook could reach
internal services (server-side request forgery). The check runs when the webhook is created
and again before every delivery, since DNS can change in between.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from resale.webhooks.errors import WebhookTargetRefused


def webhook_target_check(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookTargetRefused("Only http and https URLs with a host.", errors={"url": ["bad scheme"]})
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except socket.gaierror as exc:
        raise WebhookTargetRefused(
            "The URL's host does not resolve.", errors={"url": ["unknown host"]}
        ) from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise WebhookTargetRefused(
                "The URL points into a private network.", errors={"url": ["private address"]}
            )
