"""Cells: an AWS account and region with a table budget. Every tenant is placed in one with room.

DynamoDB allows a bounded number of tables per account and region, so a table-per-tenant
platform spreads its tenants over cells. A tenant takes as many tables as the data plane has
table models.
"""

from django.conf import settings

from resale.tables import TENANT_TABLE_MODELS
from tenants.actions import do_place_tenant_in_cell
from tenants.models import Cell, Tenant


def tables_per_tenant() -> int:
    return len(TENANT_TABLE_MODELS)


def local_cell_ensure() -> Cell | None:
    """The one local cell (from settings), created on first use where local cells are enabled."""
    if not settings.LOCAL_CELL_ENABLED:
        return None
    cell, _ = Cell.objects.get_or_create(
        name=settings.LOCAL_CELL_NAME,
        defaults={"region": settings.AWS_REGION, "table_budget": settings.LOCAL_CELL_TABLE_BUDGET},
    )
    return cell


def place_tenant_in_cell(*, tenant: Tenant) -> Cell:
    """Places the tenant in the first accepting cell with room for its tables; idempotent."""
    local_cell_ensure()
    return do_place_tenant_in_cell(tenant=tenant, tables_per_tenant=tables_per_tenant())
