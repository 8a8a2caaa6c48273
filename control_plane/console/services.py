"""The console's own writes: invitations, and the checks before an attribute schema is set.

Each is a plain function with keyword arguments that leaves a TenantEvent, so the registry's
trail says who did what from the console. Changes to the tenant itself are registry actions
(``tenants.actions``, ``provisioning.actions``), called from here or from the views.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from control_plane.console.errors import (
    AttributeSchemaInvalid,
    ExistingAccountPasswordWrong,
    FeatureNotInTier,
    InvitationInvalid,
)
from control_plane.console.models import Invitation
from resale.listings.attributes import UnsupportedSchema, attribute_schema_check_runnable
from tenants.actions import do_grant_membership, do_set_attribute_schema, record_tenant_event
from tenants.models import Membership, Tenant
from tenants.tiers import tier_policy

INVITATION_SALT = "console.invitation"
WITHDRAWN = "This invitation was withdrawn: ask for a new one."


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"invitation": invitation.pk}, salt=INVITATION_SALT, compress=True)


def invitation_issue(
    *, tenant: Tenant, email: str, role: str, actor: AbstractBaseUser | None, accept_url_for
) -> Invitation:
    """Records the invitation and emails its link; ``accept_url_for(token)`` makes the absolute URL."""
    email = email.strip().lower()
    with transaction.atomic():
        invitation = Invitation.objects.create(tenant=tenant, email=email, role=role, invited_by=actor)
        record_tenant_event(
            tenant=tenant, action="invitation.sent", actor=actor, email=email, role=role, id=invitation.pk
        )
    days = settings.CONSOLE_INVITATION_MAX_AGE_SECONDS // 86400
    send_mail(
        subject=f"You are invited to {tenant.name} on the resale platform",
        message=(
            f"You have been invited to join {tenant.name} as {role}.\n\n"
            f"Accept the invitation and choose your password here (valid for {days} days):\n"
            f"{accept_url_for(invitation_token(invitation))}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
    )
    return invitation


def invitation_withdraw(*, tenant: Tenant, invitation_id: int, actor: AbstractBaseUser) -> Invitation:
    """Withdraws a pending invitation: its emailed link stops working.

    An invitation being accepted holds its row lock; the withdrawal waits for it and then finds
    it accepted (InvitationInvalid): exactly one of the two wins.
    """
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(tenant=tenant, pk=invitation_id).first()
        if invitation is None or invitation.accepted_at is not None:
            raise InvitationInvalid("This invitation was already accepted or withdrawn.")
        invitation.delete()
        withdrawn = {"email": invitation.email, "id": invitation_id}
        record_tenant_event(tenant=tenant, action="invitation.withdrawn", actor=actor, **withdrawn)
    return invitation


def invitation_from_token(token: str) -> Invitation:
    """The pending invitation a token names; InvitationInvalid if forged, expired or used."""
    try:
        payload = signing.loads(
            token, salt=INVITATION_SALT, max_age=settings.CONSOLE_INVITATION_MAX_AGE_SECONDS
        )
    except signing.SignatureExpired as exc:
        raise InvitationInvalid("This invitation has expired: ask for a new one.") from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid("This invitation link is not valid.") from exc
    invitation = Invitation.objects.select_related("tenant").filter(pk=payload.get("invitation")).first()
    if invitation is None:
        raise InvitationInvalid(WITHDRAWN)
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation has already been used.")
    return invitation


def invitee_has_password(invitation: Invitation) -> bool:
    user = get_user_model().objects.filter(username=invitation.email).first()
    return bool(user and user.password and user.has_usable_password())


def invitation_accept(*, token: str, password: str) -> Membership:
    """Accepts an invitation exactly once: sets the new user's password and grants the membership.

    An invitee who already has a password (a member elsewhere) must give it instead.
    """
    user_model = get_user_model()
    with transaction.atomic():
        invitation = invitation_from_token(token)
        invitation = (
            Invitation.objects.select_for_update().select_related("tenant").filter(pk=invitation.pk).first()
        )
        if invitation is None:
            raise InvitationInvalid(WITHDRAWN)
        if invitation.accepted_at is not None:
            raise InvitationInvalid("This invitation has already been used.")
        user, _ = user_model.objects.get_or_create(
            username=invitation.email, defaults={"email": invitation.email, "is_active": True}
        )
        if user.password and user.has_usable_password():
            if not user.check_password(password):
                raise ExistingAccountPasswordWrong("That is not the password of your existing account.")
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        return do_grant_membership(tenant=invitation.tenant, user=user, role=invitation.role, actor=user)


def attribute_schema_check(schema: object) -> None:
    """Raises AttributeSchemaInvalid unless ``schema`` is a valid JSON Schema for an object."""
    if not isinstance(schema, dict):
        raise AttributeSchemaInvalid("The schema must be a JSON object.")
    try:
        validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except SchemaError as exc:
        path = "/".join(str(part) for part in exc.absolute_path) or "(top level)"
        raise AttributeSchemaInvalid(f"Not a valid JSON Schema at {path}: {exc.message}") from exc
    if schema.get("type") != "object":
        raise AttributeSchemaInvalid('Listing attributes are an object: the schema needs "type": "object".')
    try:
        attribute_schema_check_runnable(schema)
    except UnsupportedSchema as exc:
        raise AttributeSchemaInvalid(str(exc)) from exc


def attribute_schema_set(*, tenant: Tenant, schema: dict | None, actor: AbstractBaseUser) -> Tenant:
    """Saves (or, with None, clears) the tenant's custom listing attribute schema; premium only."""
    if not tier_policy(tenant.tier).custom_attribute_schema:
        raise FeatureNotInTier(f"Custom attribute schemas are not part of the {tenant.tier} tier.")
    if schema is not None:
        attribute_schema_check(schema)
    return do_set_attribute_schema(tenant=tenant, schema=schema, actor=actor)


def console_actor(user: AbstractBaseUser) -> str:
    """How the data plane records a console user as the actor of a change."""
    return f"console:{user.get_username()}"
