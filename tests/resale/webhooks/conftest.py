import socket
from collections.abc import Callable

import pytest

from resale.webhooks.services import webhook_subscription_create, webhook_test_send
from tenants.tiers import tier_policy


@pytest.fixture
def dns(monkeypatch):
    """A resolver for names under ``.rebind.test``: each lookup takes the next scripted answer
    (a list of addresses), the last one repeating; ``dns.lookups`` counts them. Other names go to
    the system's resolver (Redis, PostgreSQL)."""
    system_getaddrinfo = socket.getaddrinfo

    class Scripted:
        answers: list[list[str]] = []
        lookups = 0

        def getaddrinfo(self, host, port, *args, **kwargs):
            if not str(host).endswith(".rebind.test"):
                return system_getaddrinfo(host, port, *args, **kwargs)
            answer = self.answers[min(self.lookups, len(self.answers) - 1)]
            self.lookups += 1
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, port),
                )
                for address in answer
            ]

    scripted = Scripted()
    monkeypatch.setattr(socket, "getaddrinfo", scripted.getaddrinfo)
    return scripted


@pytest.fixture
def test_delivery(unique_slug) -> Callable:
    """A webhook of a fresh tenant slug (standard tier) for ``url``, and a test delivery queued to it."""

    def make(url: str):
        slug = unique_slug("wh")
        hook = webhook_subscription_create(
            tenant_slug=slug, policy=tier_policy("standard"), url=url, events=["*"]
        )
        delivery = webhook_test_send(tenant_slug=slug, policy=tier_policy("standard"), webhook_id=hook.id)
        return hook, delivery

    return make
