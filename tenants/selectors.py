"""Reads of the tenant registry."""

from django.db.models import QuerySet

from tenants.models import Tenant


def tenant_list(*, status: str | None = None, search: str | None = None) -> QuerySet[Tenant]:
    tenants = Tenant.objects.select_related("cell").all()
    if status:
        tenants = tenants.filter(status=status)
    if search:
        tenants = tenants.filter(slug__icontains=search) | tenants.filter(name__icontains=search)
    return tenants.order_by("slug")
