"""A secret shown once: kept in the session between a POST's redirect and the next GET, which pops it.

So a reload neither creates a second secret nor shows this one again, and a secret made for
one tenant is never shown on another tenant's page.
"""

from django.http import HttpRequest

from tenants.models import Tenant


def _session_key(kind: str) -> str:
    return f"console.issued.{kind}"


def secret_keep(request: HttpRequest, *, kind: str, tenant: Tenant, shown: dict) -> None:
    request.session[_session_key(kind)] = {"tenant": tenant.slug, **shown}


def secret_take(request: HttpRequest, *, kind: str, tenant: Tenant) -> dict | None:
    """The secret kept for this page, once; None if there is none or it was for another tenant."""
    shown = request.session.pop(_session_key(kind), None)
    if not shown or shown.pop("tenant") != tenant.slug:
        return None
    return shown
