"""Cells: an AWS account and region with a table budget. Every tenant is placed in one with room.

DynamoDB allows a bounded number of tables per account and region, so a table-per-tenant
platform spreads its tenants over cells. Placement locks the candidate cells, so two tenants
placed at once cannot both take the last room.
"""

from django.conf import settings
from django.db import transaction

from resale.tables import TENANT_TABLE_MODELS
from tenants.errors import NoCellCapacity
from tenants.models import Cell, Tenant
from tenants.services import record_tenant_event


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


def cell_tables_used(cell: Cell) -> int:
    tenants = Tenant.objects.filter(cell=cell).exclude(status=Tenant.Status.OFFBOARDED).count()
    return tenants * tables_per_tenant()


def place_tenant_in_cell(*, tenant: Tenant) -> Cell:
    """Puts the tenant in the first accepting cell whose budget has room for its tables.

    Idempotent: a tenant already placed keeps its cell. Raises NoCellCapacity when none has room.
    """
    local_cell_ensure()
    needed = tables_per_tenant()
    with transaction.atomic():
        locked = Tenant.objects.select_for_update(of=("self",)).select_related("cell").get(pk=tenant.pk)
        if locked.cell is not None:
            return locked.cell
        for cell in Cell.objects.select_for_update().filter(accepting_tenants=True).order_by("name"):
            used = cell_tables_used(cell)
            if used + needed <= cell.table_budget:
                locked.cell = cell
                locked.save(update_fields=["cell", "updated_at"])
                record_tenant_event(tenant=locked, action="tenant.placed", cell=cell.name, tables_used=used)
                tenant.cell = cell
                return cell
    raise NoCellCapacity(
        f"No cell accepting tenants has room for {needed} more tables; add a cell or raise a budget."
    )
