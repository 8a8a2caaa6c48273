"""Auditor pages (tenant admins see them too): history, chain status, CSV export, activity."""

import tempfile

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from control_plane.console.access import TenantAccess, tenant_view
from control_plane.console.charts import DayCount, day_bar_chart
from control_plane.console.forms import HistoryFilterForm
from control_plane.console.paging import page_or_first
from control_plane.console.selectors import history_rows, tenant_tables
from resale.binding import TenantModels
from resale.clock import file_stamp
from resale.csv_stream import csv_lines
from resale.cursors import Page
from resale.history.checkpoints import checkpoint_latest
from resale.history.exports import history_evidence_bundle
from resale.history.selectors import HistoryFilter, daily_counts, history_iter, history_page
from resale.history.tasks import history_verification_for_request

HISTORY_LIMIT = 100

CSV_COLUMNS = ["seq", "event", "entity_type", "entity_id", "actor", "at", "source", "old", "new"]
CSV_COLUMNS += ["hash", "prev_hash"]


def _no_tables(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    return render(request, "console/tenant/no_tables.html", {"access": access})


def _history_newest(tables: TenantModels, history_filter: HistoryFilter, cursor: str | None) -> Page:
    """A page of matching events as rows, newest first."""
    reading = {"tenant_models": tables, "history_filter": history_filter, "limit": HISTORY_LIMIT}
    page = page_or_first(lambda at: history_page(cursor=at, newest_first=True, **reading), cursor)
    return Page(items=history_rows(page.items), next_cursor=page.next_cursor)


@tenant_view()
def history_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    tables = tenant_tables(access.tenant)
    if tables is None:
        return _no_tables(request, access)
    form = HistoryFilterForm(request.GET or None)
    page = _history_newest(tables, form.history_filter(), request.GET.get("cursor"))
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
    events = history_iter(
        tenant_models=tables, history_filter=HistoryFilterForm(request.GET or None).history_filter()
    )
    rows = ([getattr(event, column) for column in CSV_COLUMNS] for event in events)
    stamp = file_stamp()
    response = StreamingHttpResponse(csv_lines(CSV_COLUMNS, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.tenant.slug}-history-{stamp}.csv"'
    return response


@tenant_view()
def chain_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    tables = tenant_tables(access.tenant)
    if tables is None:
        return _no_tables(request, access)
    status = history_verification_for_request(tenant_models=tables)
    checkpoint = checkpoint_latest(tenant_models=tables)
    return render(
        request, "console/audit/chain.html", {"access": access, "status": status, "checkpoint": checkpoint}
    )


@tenant_view()
def activity_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    tables = tenant_tables(access.tenant)
    if tables is None:
        return _no_tables(request, access)
    counts = daily_counts(tenant_models=tables)
    chart = day_bar_chart([DayCount(day.day, day.events) for day in counts])
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
    stamp = file_stamp()
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{access.tenant.slug}-evidence-{stamp}.zip",
        content_type="application/zip",
    )
