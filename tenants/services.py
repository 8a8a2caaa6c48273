"""Writes to the tenant registry. Each runs in one transaction and leaves a TenantEvent."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from tenants.errors import LastAdmin, SlugTaken
from tenants.lifecycle import check_transition
from tenants.models import Membership, Tenant, TenantEvent


def record_tenant_event(
    *, tenant: Tenant, action: str, actor: AbstractBaseUser | None = None, **detail
) -> None:
    TenantEvent.objects.create(tenant=tenant, action=action, actor=actor, detail=detail)


def tenant_create(
    *, slug: str, name: str, tier: str, admin_email: str, actor: AbstractBaseUser | None = None
) -> Tenant:
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(slug=slug, name=name, tier=tier, admin_email=admin_email)
            record_tenant_event(tenant=tenant, action="tenant.created", actor=actor, tier=tier)
    except IntegrityError as exc:
        raise SlugTaken(f"The slug {slug!r} is taken.", errors={"slug": ["This slug is taken."]}) from exc
    return tenant


def tenant_set_status(
    *, tenant: Tenant, status: str, actor: AbstractBaseUser | None = None, reason: str = ""
) -> Tenant:
    """Moves a tenant along its lifecycle, under a row lock so two writers cannot interleave."""
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        check_transition(locked, status)
        previous = locked.status
        locked.status = status
        locked.failure_reason = reason if status == Tenant.Status.FAILED else ""
        locked.save(update_fields=["status", "failure_reason", "updated_at"])
        if previous != status:
            record_tenant_event(
                tenant=locked, action=f"tenant.{status}", actor=actor, previous=previous, reason=reason
            )
    tenant.refresh_from_db()
    return tenant


def tenant_suspend(*, tenant: Tenant, actor: AbstractBaseUser | None = None) -> Tenant:
    return tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED, actor=actor)


def tenant_resume(*, tenant: Tenant, actor: AbstractBaseUser | None = None) -> Tenant:
    return tenant_set_status(tenant=tenant, status=Tenant.Status.ACTIVE, actor=actor)


def membership_grant(
    *, tenant: Tenant, user: AbstractBaseUser, role: str, actor: AbstractBaseUser | None = None
) -> Membership:
    """Idempotent: granting the same membership again returns the existing one, updated to the role."""
    with transaction.atomic():
        membership, created = Membership.objects.update_or_create(
            tenant=tenant, user=user, defaults={"role": role}
        )
        record_tenant_event(
            tenant=tenant,
            action="membership.granted",
            actor=actor,
            user_id=user.pk,
            role=role,
            created=created,
        )
    return membership


def membership_remove(*, membership: Membership, actor: AbstractBaseUser | None = None) -> None:
    """Removes a member from a tenant; its sessions lose the tenant with their next request.

    The tenant's row lock serialises removals, so two admins removing each other cannot leave
    the tenant without one: the second removal finds the last admin and is refused (LastAdmin).
    """
    with transaction.atomic():
        Tenant.objects.select_for_update().get(pk=membership.tenant_id)
        current = Membership.objects.filter(pk=membership.pk).first()
        if current is None:
            return
        admins = Membership.objects.filter(tenant_id=current.tenant_id, role=Membership.Role.ADMIN)
        if current.role == Membership.Role.ADMIN and not admins.exclude(pk=current.pk).exists():
            raise LastAdmin("A tenant keeps at least one admin: make someone else admin first.")
        current.delete()
        record_tenant_event(
            tenant=membership.tenant,
            action="membership.removed",
            actor=actor,
            user_id=current.user_id,
            role=current.role,
        )
