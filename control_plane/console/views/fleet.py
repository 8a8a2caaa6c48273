"""Platform staff pages of the fleet: rollouts with live progress, and drift across tenants."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from control_plane.console.access import staff_view
from control_plane.console.forms import RolloutForm
from provisioning.actions import do_cancel_rollout, do_resume_rollout, do_start_rollout
from provisioning.drift import tenant_drift
from provisioning.errors import (
    NoRolloutTargets,
    RolloutFinished,
    RolloutNotResumable,
    TenantNotProvisioned,
    UnknownTenants,
)
from provisioning.models import Rollout, RolloutTenant
from provisioning.selectors import rollout_list, rollout_waves
from provisioning.updates import UPDATABLE_STATUSES
from tenants.models import Tenant

ROLLOUTS_PER_PAGE = 20
TENANTS_PER_PAGE = 50


@staff_view
def rollout_list_view(request: HttpRequest) -> HttpResponse:
    form = RolloutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rollout = do_start_rollout(actor=request.user, **form.cleaned_data)
        except (NoRolloutTargets, UnknownTenants) as exc:
            form.add_error("tenants", str(exc))
        else:
            return redirect("console:staff-rollout", rollout_id=rollout.pk)
    page = Paginator(rollout_list(), ROLLOUTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/staff/rollouts.html", {"form": form, "page": page})


def _rollout_context(rollout_id: int) -> dict:
    rollout = get_object_or_404(Rollout, pk=rollout_id)
    waves = rollout_waves(rollout)
    entries = [entry for wave in waves for entry in wave.tenants]
    counts = {status: sum(1 for e in entries if e.status == status) for status in RolloutTenant.Status}
    done = len(entries) - counts[RolloutTenant.Status.PENDING] - counts[RolloutTenant.Status.RUNNING]
    return {
        "rollout": rollout,
        "waves": waves,
        "counts": counts,
        "progress": round(100 * done / len(entries)) if entries else 100,
        "live": rollout.status == Rollout.Status.RUNNING or counts[RolloutTenant.Status.RUNNING] > 0,
    }


@staff_view
def rollout_detail_view(request: HttpRequest, rollout_id: int) -> HttpResponse:
    template = (
        "console/partials/rollout_progress.html"
        if request.headers.get("HX-Request")
        else "console/staff/rollout.html"
    )
    return render(request, template, _rollout_context(rollout_id))


@staff_view
@require_POST
def rollout_action_view(request: HttpRequest, rollout_id: int, action: str) -> HttpResponse:
    rollout = get_object_or_404(Rollout, pk=rollout_id)
    service = {"resume": do_resume_rollout, "cancel": do_cancel_rollout}.get(action)
    if service is None:
        return redirect("console:staff-rollout", rollout_id=rollout_id)
    try:
        service(rollout=rollout)
    except (RolloutNotResumable, RolloutFinished) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Rollout {rollout.pk}: {action} done.")
    return redirect("console:staff-rollout", rollout_id=rollout_id)


@staff_view
def drift_fleet_view(request: HttpRequest) -> HttpResponse:
    """Every live tenant, each row checking its drift when it comes into view (one at a time)."""
    tenants = Tenant.objects.filter(status__in=UPDATABLE_STATUSES).order_by("slug")
    page = Paginator(tenants, TENANTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/staff/drift.html", {"page": page})


@staff_view
def tenant_drift_view(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant.objects.select_related("cell"), slug=slug)
    try:
        drift = tenant_drift(tenant=tenant)
    except TenantNotProvisioned as exc:
        drift, error = None, str(exc)
    else:
        error = ""
    return render(
        request, "console/partials/tenant_drift.html", {"tenant": tenant, "drift": drift, "error": error}
    )
