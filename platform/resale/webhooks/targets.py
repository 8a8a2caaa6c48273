"""Which URLs a webhook may target, and the one address a delivery connects to.

A tenant chooses the URL and our servers call it, so without this a webhook could reach
internal services (server-side request forgery). Only http and https; unless
``WEBHOOK_ALLOW_PRIVATE_TARGETS`` is on, every address the host resolves to must be public.

DNS can answer differently from one lookup to the next (DNS rebinding), so a delivery resolves
the host once, checks every answer, and the HTTP client connects to that checked address and no
other (``resale.webhooks.sender`` pins it), never resolving the name again.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from resale.webhooks.errors import WebhookTargetRefused


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    host: str
    port: int
    address: str
    """The checked IP address the delivery connects to."""


def _url_parts(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise WebhookTargetRefused("The URL's port is not valid.", errors={"url": ["bad port"]}) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookTargetRefused("Only http and https URLs with a host.", errors={"url": ["bad scheme"]})
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def webhook_target_resolve(url: str) -> WebhookTarget:
    """Resolves the URL's host once and returns the address to connect to, or refuses the URL."""
    host, port = _url_parts(url)
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookTargetRefused(
            "The URL's host does not resolve.", errors={"url": ["unknown host"]}
        ) from exc
    addresses = [info[4][0] for info in answers]
    if not addresses:
        raise WebhookTargetRefused("The URL's host does not resolve.", errors={"url": ["unknown host"]})
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and not all(_is_public(a) for a in addresses):
        raise WebhookTargetRefused(
            "The URL points into a private network.", errors={"url": ["private address"]}
        )
    return WebhookTarget(url=url, host=host, port=port, address=addresses[0])


def webhook_target_check(url: str) -> None:
    """The check a new webhook's URL passes: with private targets allowed, only its form is checked."""
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        _url_parts(url)
        return
    webhook_target_resolve(url)
