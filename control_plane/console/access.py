"""Who may see which console page: the one place where role and tenant scoping is decided.

Every tenant page is reached through ``tenant_view``: it loads the tenant named in the URL
only through the signed-in user's own membership of it, so a slug the user is not a member
of answers 404 exactly like a slug that does not exist. Auditors read; any request of theirs
that could change something (every method but GET and HEAD) is refused with 403.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from control_plane.console.unavailable import answers_503_when_a_dependency_fails
from tenants.models import Membership, Tenant

ADMIN = Membership.Role.ADMIN
AUDITOR = Membership.Role.AUDITOR
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class TenantAccess:
    """The tenant a console request works on and the role its user holds there."""

    tenant: Tenant
    role: str

    @property
    def can_write(self) -> bool:
        return self.role == ADMIN


def tenant_access(user, slug: str) -> TenantAccess:
    """The user's access to the tenant ``slug``; Http404 unless the user is a member of it."""
    if not user.is_authenticated:
        raise Http404
    membership = Membership.objects.select_related("tenant").filter(user=user, tenant__slug=slug).first()
    if membership is None:
        raise Http404
    return TenantAccess(tenant=membership.tenant, role=membership.role)


def tenant_view(*, roles: frozenset[str] = frozenset({ADMIN, AUDITOR})) -> Callable:
    """Decorates a view ``view(request, access, **kwargs)`` reached as ``/console/t/<slug>/...``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @answers_503_when_a_dependency_fails
        @wraps(view)
        def wrapped(request: HttpRequest, slug: str, **kwargs) -> HttpResponse:
            access = tenant_access(request.user, slug)
            if access.role not in roles:
                raise PermissionDenied("Your role in this tenant cannot open this page.")
            if request.method not in READ_METHODS and not access.can_write:
                raise PermissionDenied("Auditors read; they change nothing.")
            request.tenant_access = access
            return view(request, access, **kwargs)

        return wrapped

    return decorate


def staff_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Platform staff only (``is_staff``); everyone else gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("Platform staff only.")
        return view(request, *args, **kwargs)

    return wrapped


def member_tenants(user) -> list[TenantAccess]:
    """Every tenant the user is a member of, with the role, by slug."""
    memberships = Membership.objects.select_related("tenant").filter(user=user).order_by("tenant__slug")
    return [TenantAccess(tenant=m.tenant, role=m.role) for m in memberships]
