"""Auditor pages (tenant admins see them too): history, chain status, CSV export, activity."""

import csv
import tempfile

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from control_plane.console.access import TenantAccess, tenant_view
from control_plane.console.charts import day_bar_chart
from control_plane.console.forms import HistoryFilterForm
from control_plane.console.selectors import (
    history_activity_per_day,
    history_events,
    history_newest,
    tenant_tables,
)
from resale.history.checkpoints import checkpoint_latest
from resale.history.exports import history_evidence_bundle
from resale.history.verification import history_verify

CSV_COLUMNS = ["seq", "event", "entity_type", "entity_id", "actor", "at", "source", "old", "new"]
CSV_COLUMNS += ["hash", "prev_hash"]


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A value safe to open in a spreadsheet: text that would start a formula is quoted with '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _no_tables(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    return render(request, "console/tenant/no_tables.html", {"access": access})


@tenant_view()
def history_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    tables = tenant_tables(access.tenant)
    if tables is None:
        return _no_tables(request, access)
    form = HistoryFilterForm(request.GET or None)
    page = history_newest(tables=tables, filters=form.history_filter(), cursor=request.GET.get("cursor"))
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "console/audit/history.html",
        {
            "access": access,
            "form": form,
            "page": page,
            "rows": page.items,
            "query": query.urlencode(),
            "export_query": query.urlencode(),
        },
    )


@tenant_view()
def history_export_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    """The matching history as CSV, streamed as it is read."""
    tables = tenant_tables(access.tenant)
    if tables is None:
        return _no_tables(request, access)
    events = history_events(tables=tables, filters=HistoryFilterForm(request.GET or None).history_filter())

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for event in events:
            yield writer.writerow([csv_cell(getattr(event, column)) for column in CSV_COLUMNS])

    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.tenant.slug}-history-{stamp}.csv"'
    return response


@tenant_view()
def chain_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    tables = tenant_tables(access.tenant)
    if tables is None:
        return _no_tables(request, access)
    status = history_verify(tenant_models=tables)
    checkpoint = checkpoint_latest(tenant_models=tables)
    return render(
        request, "console/audit/chain.html", {"access": access, "status": status, "checkpoint": checkpoint}
    )


@tenant_view()
def activity_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    tables = tenant_tables(access.tenant)
    if tables is None:
        return _no_tables(request, access)
    chart = day_bar_chart(history_activity_per_day(tables=tables))
    return render(request, "console/audit/activity.html", {"access": access, "chart": chart})


@tenant_view()
def evidence_download_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    """The history as evidence (events, signed checkpoints, JWKS and the standalone verifier), as a
    zip built in a temporary file so that no tenant's history is held in memory."""
    tables = tenant_tables(access.tenant)
    if tables is None:
        return _no_tables(request, access)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    history_evidence_bundle(tenant_slug=access.tenant.slug, models=tables, destination=spool)
    spool.seek(0)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{access.tenant.slug}-evidence-{stamp}.zip",
        content_type="application/zip",
    )
