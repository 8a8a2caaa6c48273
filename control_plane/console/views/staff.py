"""Platform staff pages: tenants, onboarding with live progress, a tenant's page, platform health."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from control_plane.console.access import staff_view
from control_plane.console.forms import OnboardingForm, TenantFilterForm
from control_plane.console.health import platform_health
from control_plane.console.selectors import tenant_health, tenant_overview
from control_plane.console.services import invitation_issue
from provisioning.actions import do_offboard, do_onboard_tenant, do_retry_failed_run
from provisioning.errors import NothingToRetry
from provisioning.models import ProvisioningRun
from provisioning.selectors import tenant_runs
from resale.streams.selectors import tenant_stream_lag
from tenants.actions import do_resume_tenant, do_suspend_tenant
from tenants.errors import InvalidTenantTransition, SlugTaken
from tenants.models import Membership, Tenant

TENANTS_PER_PAGE = 50

# action -> (label, service, statuses it applies to, what the confirmation page says)
TENANT_ACTIONS = {
    "suspend": (
        "Suspend",
        do_suspend_tenant,
        {Tenant.Status.ACTIVE},
        "Its API answers 403 to every storefront request until it is resumed.",
    ),
    "resume": (
        "Resume",
        do_resume_tenant,
        {Tenant.Status.SUSPENDED},
        "Its API serves storefront requests again.",
    ),
    "offboard": (
        "Offboard",
        do_offboard,
        {Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED, Tenant.Status.FAILED},
        "Its API stops serving; every table is exported as JSON lines, the export is verified, "
        "then its tables are deleted. This cannot be undone.",
    ),
}


@staff_view
def tenant_list_view(request: HttpRequest) -> HttpResponse:
    form = TenantFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    tenants = tenant_overview(status=filters.get("status"), search=filters.get("q"), tier=filters.get("tier"))
    page = Paginator(tenants, TENANTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(tenant, tenant_health(tenant)) for tenant in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/staff/tenant_list.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


@staff_view
def onboarding_view(request: HttpRequest) -> HttpResponse:
    form = OnboardingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = do_onboard_tenant(**form.cleaned_data, actor=request.user)
        except SlugTaken:
            form.add_error("slug", "This slug is taken.")
        else:
            return redirect("console:staff-run", slug=run.tenant.slug, run_id=run.pk)
    return render(request, "console/staff/onboard.html", {"form": form})


def _run_context(slug: str, run_id: int) -> dict:
    run = get_object_or_404(ProvisioningRun.objects.select_related("tenant"), pk=run_id, tenant__slug=slug)
    finished = run.status in (ProvisioningRun.Status.SUCCEEDED, ProvisioningRun.Status.FAILED)
    return {"run": run, "tenant": run.tenant, "finished": finished}


@staff_view
def run_view(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    return render(request, "console/staff/run.html", _run_context(slug, run_id))


@staff_view
def run_progress_view(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """The live part of the run page, polled by htmx until the run finishes."""
    return render(request, "console/partials/run_progress.html", _run_context(slug, run_id))


@staff_view
@require_POST
def onboarding_retry_view(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    try:
        run = do_retry_failed_run(tenant=tenant, actor=request.user)
    except (NothingToRetry, InvalidTenantTransition) as exc:
        messages.error(request, str(exc))
        return redirect("console:staff-tenant", slug=slug)
    return redirect("console:staff-run", slug=slug, run_id=run.pk)


@staff_view
def tenant_detail_view(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant.objects.select_related("cell"), slug=slug)
    actions = [
        (name, label) for name, (label, _, statuses, _) in TENANT_ACTIONS.items() if tenant.status in statuses
    ]
    return render(
        request,
        "console/staff/tenant_detail.html",
        {
            "tenant": tenant,
            "runs": tenant_runs(tenant)[:20],
            "actions": actions,
            "members": tenant.memberships.select_related("user").order_by("role", "user__username"),
            "events": tenant.events.select_related("actor").order_by("-at", "-id")[:20],
            "can_retry": tenant.status == Tenant.Status.FAILED,
            "stream_lag": tenant_stream_lag(tenant_slug=tenant.slug),
        },
    )


@staff_view
def tenant_action_view(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    """GET asks for confirmation; POST does it."""
    if action not in TENANT_ACTIONS:
        raise Http404("No such action.")
    tenant = get_object_or_404(Tenant, slug=slug)
    label, service, statuses, consequence = TENANT_ACTIONS[action]
    if request.method == "POST":
        try:
            service(tenant=tenant, actor=request.user)
        except InvalidTenantTransition as exc:
            messages.error(request, str(exc))
        else:
            tenant.refresh_from_db()
            messages.success(request, f"{tenant.slug}: {label.lower()} done; it is now {tenant.status}.")
        return redirect("console:staff-tenant", slug=slug)
    return render(
        request,
        "console/staff/confirm.html",
        {"tenant": tenant, "label": label, "consequence": consequence, "allowed": tenant.status in statuses},
    )


@staff_view
@require_POST
def invite_tenant_admin_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Emails the tenant's admin address an invitation to set a password and sign in."""
    tenant = get_object_or_404(Tenant, slug=slug)
    invitation_issue(
        tenant=tenant,
        email=tenant.admin_email,
        role=Membership.Role.ADMIN,
        actor=request.user,
        accept_url_for=lambda token: request.build_absolute_uri(reverse("console:invitation", args=[token])),
    )
    messages.success(request, f"Invitation sent to {tenant.admin_email}.")
    return redirect("console:staff-tenant", slug=slug)


@staff_view
def health_view(request: HttpRequest) -> HttpResponse:
    template = (
        "console/partials/health.html" if request.headers.get("HX-Request") else "console/staff/health.html"
    )
    return render(request, template, {"health": platform_health()})
