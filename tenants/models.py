from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models

SLUG_VALIDATOR = RegexValidator(r"^[a-z0-9-]{3,40}$", "3 to 40 characters of a-z, 0-9 and '-'.")


class Cell(models.Model):
    """An AWS account and region with a budget of tables (DynamoDB allows 10,000 per account)."""

    name = models.SlugField(unique=True)
    aws_account_id = models.CharField(max_length=12, blank=True)
    region = models.CharField(max_length=32)
    table_budget = models.PositiveIntegerField()
    accepting_tenants = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Tenant(models.Model):
    class Tier(models.TextChoices):
        STANDARD = "standard"
        PREMIUM = "premium"

    class Status(models.TextChoices):
        PROVISIONING = "provisioning"
        ACTIVE = "active"
        FAILED = "failed"
        SUSPENDED = "suspended"
        OFFBOARDING = "offboarding"
        OFFBOARDED = "offboarded"

    slug = models.CharField(max_length=40, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(max_length=200)
    tier = models.CharField(max_length=16, choices=Tier.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROVISIONING)
    admin_email = models.EmailField()
    cell = models.ForeignKey(Cell, null=True, blank=True, on_delete=models.PROTECT, related_name="tenants")
    resources = models.JSONField(default=dict, blank=True)
    failure_reason = models.TextField(blank=True)
    attribute_schema = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin"
        AUDITOR = "auditor"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="one_membership_per_user_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.tenant}"


class ApiKey(models.Model):
    """An API key, stored as a SHA-256 of its secret: keys are random, so a slow hash buys nothing."""

    class Scope(models.TextChoices):
        READ = "read"
        WRITE = "write"
        AUDIT = "audit"

    id = models.CharField(primary_key=True, max_length=24)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    scopes = ArrayField(models.CharField(max_length=8, choices=Scope.choices))
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tenant} key {self.id} ({self.name})"


class TenantEvent(models.Model):
    """The registry's own trail: every control-plane change to a tenant, written in its transaction."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.tenant} {self.action} at {self.at:%Y-%m-%d %H:%M:%S}"
