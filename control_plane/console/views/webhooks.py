"""Tenant admin pages for webhooks: register (the secret shown once), test, deliveries, re-drive.

Everything goes through ``resale.webhooks.services``, scoped by the tenant of the signed-in
admin's membership: another tenant's webhook or delivery id answers 404.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from control_plane.console.access import ADMIN, TenantAccess, tenant_view
from control_plane.console.forms import DeliveryFilterForm, WebhookForm
from control_plane.console.services import console_actor
from control_plane.console.show_once import secret_keep, secret_take
from resale.models import WebhookSubscription
from resale.ratelimit.limiter import RateLimited
from resale.webhooks.errors import (
    WebhookDeliveryNotFound,
    WebhookLimitReached,
    WebhookNotFound,
    WebhookTargetRefused,
)
from resale.webhooks.services import (
    webhook_deliveries_list,
    webhook_delivery_redrive,
    webhook_failed_deliveries,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_get,
    webhook_subscriptions_list,
    webhook_test_send,
)
from tenants.tiers import tier_policy

ADMINS = frozenset({ADMIN})
DELIVERIES_SHOWN = 100


def _webhook(access: TenantAccess, webhook_id: str) -> WebhookSubscription:
    try:
        return webhook_subscription_get(tenant_slug=access.tenant.slug, webhook_id=webhook_id)
    except WebhookNotFound as exc:
        raise Http404("No such webhook.") from exc


@never_cache
@tenant_view(roles=ADMINS)
def webhooks_view(request: HttpRequest, access: TenantAccess) -> HttpResponse:
    """Webhooks and dead deliveries. A POST registers a webhook; the next GET shows its secret once."""
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook = webhook_subscription_create(
                tenant_slug=access.tenant.slug,
                policy=tier_policy(access.tenant.tier),
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                actor=console_actor(request.user),
            )
        except (WebhookTargetRefused, WebhookLimitReached) as exc:
            form.add_error("url", exc.detail)
        else:
            secret_keep(
                request,
                kind="webhook",
                tenant=access.tenant,
                shown={"id": webhook.id, "url": webhook.url, "secret": webhook.secret},
            )
            return redirect("console:webhooks", slug=access.tenant.slug)
    return render(
        request,
        "console/tenant/webhooks.html",
        {
            "access": access,
            "form": form,
            "webhooks": webhook_subscriptions_list(tenant_slug=access.tenant.slug),
            "dead": webhook_failed_deliveries(tenant_slug=access.tenant.slug)[:DELIVERIES_SHOWN],
            "issued": secret_take(request, kind="webhook", tenant=access.tenant),
        },
    )


@tenant_view(roles=ADMINS)
def webhook_detail_view(request: HttpRequest, access: TenantAccess, webhook_id: str) -> HttpResponse:
    webhook = _webhook(access, webhook_id)
    form = DeliveryFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    deliveries = webhook_deliveries_list(
        tenant_slug=access.tenant.slug, webhook_id=webhook.id, status=status or None
    )[:DELIVERIES_SHOWN]
    return render(
        request,
        "console/tenant/webhook_detail.html",
        {"access": access, "webhook": webhook, "form": form, "deliveries": deliveries},
    )


@tenant_view(roles=ADMINS)
@require_POST
def webhook_test_view(request: HttpRequest, access: TenantAccess, webhook_id: str) -> HttpResponse:
    webhook = _webhook(access, webhook_id)
    try:
        delivery = webhook_test_send(
            tenant_slug=access.tenant.slug, policy=tier_policy(access.tenant.tier), webhook_id=webhook.id
        )
    except RateLimited as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"Test delivery {delivery.id} queued.")
    return redirect("console:webhook", slug=access.tenant.slug, webhook_id=webhook.id)


@tenant_view(roles=ADMINS)
@require_POST
def webhook_delete_view(request: HttpRequest, access: TenantAccess, webhook_id: str) -> HttpResponse:
    webhook = _webhook(access, webhook_id)
    webhook_subscription_delete(tenant_slug=access.tenant.slug, webhook_id=webhook.id)
    messages.success(request, f"Webhook {webhook.id} deleted.")
    return redirect("console:webhooks", slug=access.tenant.slug)


@tenant_view(roles=ADMINS)
@require_POST
def delivery_redrive_view(request: HttpRequest, access: TenantAccess, delivery_id: str) -> HttpResponse:
    try:
        delivery = webhook_delivery_redrive(
            tenant_slug=access.tenant.slug, policy=tier_policy(access.tenant.tier), delivery_id=delivery_id
        )
    except WebhookDeliveryNotFound as exc:
        raise Http404("No such delivery.") from exc
    except RateLimited as exc:
        messages.error(request, exc.detail)
        return redirect("console:webhooks", slug=access.tenant.slug)
    messages.success(request, f"Delivery {delivery.id} re-driven: it is {delivery.status}.")
    if request.POST.get("back") == "webhook":
        return redirect("console:webhook", slug=access.tenant.slug, webhook_id=delivery.subscription_id)
    return redirect("console:webhooks", slug=access.tenant.slug)
