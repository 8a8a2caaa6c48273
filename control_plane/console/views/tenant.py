"""Tenant admin pages: listings, orders, usage, API keys, team and the attribute schema.

Listings and orders are read and changed through the data plane's own selectors and services
(``resale.listings``, ``resale.orders``), with the console user recorded as the actor.
"""

import json
from dataclasses import asdict

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from control_plane.console.access import ADMIN, TenantAccess, tenant_view
from control_plane.console.charts import DayCount, day_bar_chart
from control_plane.console.errors import AttributeSchemaInvalid, FeatureNotInTier, InvitationInvalid
from control_plane.console.forms import (
    ApiKeyForm,
    AttributeSchemaForm,
    InvitationForm,
    ListingEditForm,
    ListingFilterForm,
    OrderFilterForm,
)
from control_plane.console.models import Invitation
from control_plane.console.paging import page_or_first
from control_plane.console.services import (
    attribute_schema_set,
    console_actor,
    invitation_issue,
    invitation_withdraw,
)
from control_plane.console.show_once import secret_keep, secret_take
from httpkit.usage import usage_per_day
from resale.cursors import Page
from resale.errors import NotFound
from resale.history.selectors import daily_counts
from resale.listings.errors import InvalidListing, ListingNotAvailable, StaleVersion
from resale.listings.selectors import listing_get, listing_list
from resale.listings.services import listing_update, listing_withdraw
from resale.orders.selectors import order_get, order_list
from resale.tenancy import TenantRoute, tenant_route
from tenants.actions import do_issue_api_key, do_remove_membership, do_revoke_api_key
from tenants.errors import LastAdmin
from tenants.models import Membership
from tenants.tiers import tier_policy

PAGE_SIZE = 50
ADMINS = frozenset({ADMIN})
STALE_EDIT = "Someone changed this listing since you opened it: reload and edit again."
LISTING_FILTERS = {"seller_id": "seller_id", "status": "status", "category": "category", "text": "q"}


def _route_or_page(
    request: HttpRequest, access: TenantAccess
) -> tuple[TenantRoute | None, HttpResponse | None]:
    """The data plane's route to the tenant's tables, or the page saying it has none yet."""
    route = tenant_route(access.tenant.slug)
    if route is None:
        return None, render(request, "console/tenant/no_tables.html", {"access": access})
    return route, None


def _listing_page(route: TenantRoute, filters: dict, cursor: str | None) -> Page:
    """A page of the listings filters (the form's ``q`` is the text search)."""
    chosen = {name: filters.get(field) or None for name, field in LISTING_FILTERS.items()}
    return page_or_first(lambda at: listing_list(route=route, limit=PAGE_SIZE, cursor=at, **chosen), cursor)


@tenant_view(roles=ADMINS)
def listing_list_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    route, page_without_tables = _route_or_page(request, access)
    if route is None:
        return page_without_tables
    form = ListingFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = _listing_page(route, filters, request.GET.get("cursor"))
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "console/tenant/listings.html",
        {"access": access, "form": form, "page": page, "query": query.urlencode()},
    )


@tenant_view(roles=ADMINS)
def listing_edit_view(request: HttpRequest, access: TenantAccess, listing_id: str) -> HttpResponse:
    route, page_without_tables = _route_or_page(request, access)
    if route is None:
        return page_without_tables
    try:
        listing = listing_get(route=route, listing_id=listing_id)
    except NotFound as exc:
        raise Http404("No such listing.") from exc
    initial = {name: getattr(listing, name) for name in ListingEditForm.base_fields}
    form = ListingEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            listing_update(
                route=route,
                actor=console_actor(request.user),
                listing_id=listing_id,
                expected_version=form.cleaned_data["version"],
                changes=form.changes(),
            )
        except StaleVersion:
            form.add_error(None, STALE_EDIT)
        except (ListingNotAvailable, InvalidListing) as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(request, f"Listing {listing_id} saved.")
            return redirect("console:listings", slug=access.tenant.slug)
    return render(
        request, "console/tenant/listing_edit.html", {"access": access, "listing": listing, "form": form}
    )


@tenant_view(roles=ADMINS)
@require_POST
def listing_withdraw_view(request: HttpRequest, access: TenantAccess, listing_id: str) -> HttpResponse:
    route, page_without_tables = _route_or_page(request, access)
    if route is None:
        return page_without_tables
    try:
        listing_withdraw(route=route, actor=console_actor(request.user), listing_id=listing_id)
    except NotFound as exc:
        raise Http404("No such listing.") from exc
    except ListingNotAvailable as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"Listing {listing_id} withdrawn.")
    return redirect("console:listings", slug=access.tenant.slug)


def _order_page(route: TenantRoute, filters: dict, cursor: str | None) -> Page:
    """A page of the orders filters."""
    chosen = {name: filters.get(name) or "" for name in ("status", "buyer_id")}
    return page_or_first(lambda at: order_list(route=route, limit=PAGE_SIZE, cursor=at, **chosen), cursor)


@tenant_view(roles=ADMINS)
def order_list_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    route, page_without_tables = _route_or_page(request, access)
    if route is None:
        return page_without_tables
    form = OrderFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = _order_page(route, filters, request.GET.get("cursor"))
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "console/tenant/orders.html",
        {"access": access, "form": form, "page": page, "query": query.urlencode()},
    )


@tenant_view(roles=ADMINS)
def order_detail_view(request: HttpRequest, access: TenantAccess, order_id: str) -> HttpResponse:
    route, page_without_tables = _route_or_page(request, access)
    if route is None:
        return page_without_tables
    try:
        order = order_get(route=route, order_id=order_id)
    except NotFound as exc:
        raise Http404("No such order.") from exc
    return render(request, "console/tenant/order_detail.html", {"access": access, "order": order})


@tenant_view(roles=ADMINS)
def usage_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    route, page_without_tables = _route_or_page(request, access)
    if route is None:
        return page_without_tables
    api_usage = usage_per_day(tenant_slug=access.tenant.slug)
    counts = daily_counts(tenant_models=route.models)
    charts = [
        ("API requests per day", day_bar_chart([DayCount(u.day, u.requests) for u in api_usage])),
        ("Throttled requests per day", day_bar_chart([DayCount(u.day, u.throttled) for u in api_usage])),
        ("Orders per day", day_bar_chart([DayCount(c.day, c.orders) for c in counts])),
        ("Listings created per day", day_bar_chart([DayCount(c.day, c.listings) for c in counts])),
    ]
    return render(request, "console/tenant/usage.html", {"access": access, "charts": charts})


@never_cache
@tenant_view(roles=ADMINS)
def api_keys_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    """Lists the keys. A POST issues one and redirects; the next GET shows its secret, once."""
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        issued = do_issue_api_key(
            tenant=access.tenant,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            actor=request.user,
        )
        secret_keep(request, kind="api-key", tenant=access.tenant, shown=asdict(issued))
        return redirect("console:api-keys", slug=access.tenant.slug)
    issued = secret_take(request, kind="api-key", tenant=access.tenant)
    keys = access.tenant.api_keys.select_related("created_by").order_by("revoked_at", "-created_at")
    return render(
        request,
        "console/tenant/api_keys.html",
        {"access": access, "form": form, "keys": keys, "issued": issued},
    )


@tenant_view(roles=ADMINS)
@require_POST
def api_key_revoke_view(request: HttpRequest, access: TenantAccess, key_id: str) -> HttpResponse:
    api_key = get_object_or_404(access.tenant.api_keys, id=key_id)
    do_revoke_api_key(api_key=api_key, actor=request.user)
    messages.success(request, f"Key {api_key.name} ({api_key.id}) revoked.")
    return redirect("console:api-keys", slug=access.tenant.slug)


@tenant_view(roles=ADMINS)
def team_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation_issue(
            tenant=access.tenant,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            actor=request.user,
            accept_url_for=lambda token: request.build_absolute_uri(
                reverse("console:invitation", args=[token])
            ),
        )
        messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
        return redirect("console:team", slug=access.tenant.slug)
    members = access.tenant.memberships.select_related("user").order_by("role", "user__username")
    pending = Invitation.objects.filter(tenant=access.tenant, accepted_at__isnull=True)
    return render(
        request,
        "console/tenant/team.html",
        {"access": access, "form": form, "members": members, "pending": pending},
    )


@tenant_view(roles=ADMINS)
@require_POST
def member_remove_view(request: HttpRequest, access: TenantAccess, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.select_related("user", "tenant"), pk=membership_id, tenant=access.tenant
    )
    try:
        do_remove_membership(membership=membership, actor=request.user)
    except LastAdmin as exc:
        messages.error(request, exc.detail)
        return redirect("console:team", slug=access.tenant.slug)
    username = membership.user.get_username()
    messages.success(request, f"{username} no longer has access to {access.tenant.name}.")
    if membership.user_id == request.user.pk:
        return redirect("console:home")
    return redirect("console:team", slug=access.tenant.slug)


@tenant_view(roles=ADMINS)
@require_POST
def invitation_withdraw_view(request: HttpRequest, access: TenantAccess, invitation_id: int) -> HttpResponse:
    try:
        invitation = invitation_withdraw(
            tenant=access.tenant, invitation_id=invitation_id, actor=request.user
        )
    except InvitationInvalid as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    return redirect("console:team", slug=access.tenant.slug)


@tenant_view(roles=ADMINS)
def attribute_schema_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    tenant = access.tenant
    allowed = tier_policy(tenant.tier).custom_attribute_schema
    current = json.dumps(tenant.attribute_schema, indent=2) if tenant.attribute_schema else ""
    form = AttributeSchemaForm(request.POST or None, initial={"schema": current})
    status = 200
    if request.method == "POST":
        if not allowed:
            status = 403
            form.add_error(None, f"Custom attribute schemas are not part of the {tenant.tier} tier.")
        elif form.is_valid():
            try:
                attribute_schema_set(tenant=tenant, schema=form.cleaned_data["schema"], actor=request.user)
            except (AttributeSchemaInvalid, FeatureNotInTier) as exc:
                form.add_error("schema", str(exc))
            else:
                messages.success(request, "Attribute schema saved.")
                return redirect("console:schema", slug=tenant.slug)
    return render(
        request,
        "console/tenant/schema.html",
        {"access": access, "form": form, "allowed": allowed},
        status=status,
    )
