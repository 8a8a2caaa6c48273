"""Every change to the tenant registry, one ``do_*`` action each (Zulip's ``zerver/actions``).

Each action runs in one transaction and writes its ``TenantEvent`` in that transaction, so the
registry's trail holds exactly the changes that committed. Actions nest: called inside a caller's
transaction they commit with it. Actions that also start provisioning work (onboard, offboard,
change a tier, roll out) live in ``provisioning.actions`` and call these.
"""

import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.api_keys import KEY_PREFIX, IssuedApiKey, api_key_secret_hash
from tenants.errors import LastAdmin, NoCellCapacity, SlugTaken
from tenants.lifecycle import check_transition
from tenants.models import ApiKey, Cell, Membership, Tenant, TenantEvent


def record_tenant_event(
    *, tenant: Tenant, action: str, actor: AbstractBaseUser | None = None, **detail
) -> None:
    """The trail's row; call it inside the transaction of the change it records."""
    TenantEvent.objects.create(tenant=tenant, action=action, actor=actor, detail=detail)


def do_create_tenant(
    *, slug: str, name: str, tier: str, admin_email: str, actor: AbstractBaseUser | None = None
) -> Tenant:
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(slug=slug, name=name, tier=tier, admin_email=admin_email)
            record_tenant_event(tenant=tenant, action="tenant.created", actor=actor, tier=tier)
    except IntegrityError as exc:
        raise SlugTaken(f"The slug {slug!r} is taken.", errors={"slug": ["This slug is taken."]}) from exc
    return tenant


def do_change_tenant_status(
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


def do_suspend_tenant(*, tenant: Tenant, actor: AbstractBaseUser | None = None) -> Tenant:
    return do_change_tenant_status(tenant=tenant, status=Tenant.Status.SUSPENDED, actor=actor)


def do_resume_tenant(*, tenant: Tenant, actor: AbstractBaseUser | None = None) -> Tenant:
    return do_change_tenant_status(tenant=tenant, status=Tenant.Status.ACTIVE, actor=actor)


def do_place_tenant_in_cell(*, tenant: Tenant, tables_per_tenant: int) -> Cell:
    """Puts the tenant in the first accepting cell whose table budget has room for its tables.

    The candidate cells are locked, so two tenants placed at once cannot both take the last room.
    Idempotent: a tenant already placed keeps its cell. Raises NoCellCapacity when none has room.
    """
    with transaction.atomic():
        locked = Tenant.objects.select_for_update(of=("self",)).select_related("cell").get(pk=tenant.pk)
        if locked.cell is not None:
            return locked.cell
        for cell in Cell.objects.select_for_update().filter(accepting_tenants=True).order_by("name"):
            placed = Tenant.objects.filter(cell=cell).exclude(status=Tenant.Status.OFFBOARDED).count()
            used = placed * tables_per_tenant
            if used + tables_per_tenant <= cell.table_budget:
                locked.cell = cell
                locked.save(update_fields=["cell", "updated_at"])
                record_tenant_event(tenant=locked, action="tenant.placed", cell=cell.name, tables_used=used)
                tenant.cell = cell
                return cell
    raise NoCellCapacity(
        f"No cell accepting tenants has room for {tables_per_tenant} more tables; "
        "add a cell or raise a budget."
    )


def do_record_tenant_resources(*, tenant: Tenant, outputs: dict, run_id: int, engine: str) -> Tenant:
    """Keeps what a provisioning run created (tables, streams, role): what the data plane routes by."""
    with transaction.atomic():
        tenant.resources = {**outputs, "cell": tenant.cell.name}
        tenant.save(update_fields=["resources", "updated_at"])
        record_tenant_event(tenant=tenant, action="tenant.outputs_recorded", run=run_id, engine=engine)
    return tenant


def do_apply_tenant_update(
    *, tenant: Tenant, tier: str, outputs: dict, run_id: int, engine: str, changed: bool
) -> Tenant:
    """Records an applied update run: the tier it applied and the resources it left."""
    with transaction.atomic():
        locked = Tenant.objects.select_for_update(of=("self",)).select_related("cell").get(pk=tenant.pk)
        previous_tier = locked.tier
        locked.tier = tier
        locked.resources = {**outputs, "cell": locked.cell.name}
        locked.save(update_fields=["tier", "resources", "updated_at"])
        record_tenant_event(
            tenant=locked, action="tenant.updated", run=run_id, engine=engine, changed=changed
        )
        if previous_tier != tier:
            record_tenant_event(
                tenant=locked, action="tenant.tier_changed", run=run_id, previous=previous_tier, tier=tier
            )
    return locked


def do_mark_tenant_offboarded(*, tenant: Tenant, export: dict) -> Tenant:
    """Ends a tenant once its data is exported: no resources left, the export on the trail.

    Idempotent: an offboarded tenant is left as it is."""
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if locked.status == Tenant.Status.OFFBOARDED:
            return locked
        locked.resources = {}
        locked.save(update_fields=["resources", "updated_at"])
        record_tenant_event(tenant=locked, action="tenant.exported", **export)
        do_change_tenant_status(tenant=locked, status=Tenant.Status.OFFBOARDED)
    tenant.refresh_from_db()
    return tenant


def do_set_attribute_schema(*, tenant: Tenant, schema: dict | None, actor: AbstractBaseUser) -> Tenant:
    """Saves (or, with None, clears) the tenant's custom listing attribute schema, already checked."""
    with transaction.atomic():
        tenant.attribute_schema = schema
        tenant.save(update_fields=["attribute_schema", "updated_at"])
        record_tenant_event(tenant=tenant, action="attribute_schema.set", actor=actor, cleared=schema is None)
    return tenant


def do_grant_membership(
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


def do_remove_membership(*, membership: Membership, actor: AbstractBaseUser | None = None) -> None:
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


def do_issue_api_key(
    *, tenant: Tenant, name: str, scopes: list[str], actor: AbstractBaseUser | None = None
) -> IssuedApiKey:
    """Stores a new key hashed and returns it in clear: the only time its secret is shown."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    scopes = sorted(set(scopes))
    with transaction.atomic():
        ApiKey.objects.create(
            id=key_id,
            tenant=tenant,
            name=name,
            scopes=scopes,
            secret_hash=api_key_secret_hash(secret),
            created_by=actor,
        )
        record_tenant_event(tenant=tenant, action="api_key.issued", actor=actor, key_id=key_id, scopes=scopes)
    return IssuedApiKey(id=key_id, key=f"{KEY_PREFIX}_{key_id}_{secret}", scopes=scopes, name=name)


def do_revoke_api_key(*, api_key: ApiKey, actor: AbstractBaseUser | None = None) -> ApiKey:
    with transaction.atomic():
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
            record_tenant_event(
                tenant=api_key.tenant, action="api_key.revoked", actor=actor, key_id=api_key.id
            )
    return api_key
