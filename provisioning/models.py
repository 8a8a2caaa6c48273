from django.conf import settings
from django.db import models

from tenants.models import Tenant


class ProvisioningRun(models.Model):
    """One run of the tenant program (onboard, update or offboard), with its steps, plan and result."""

    class Kind(models.TextChoices):
        ONBOARD = "onboard"
        UPDATE = "update"
        OFFBOARD = "offboard"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    tier = models.CharField(max_length=16, blank=True)
    """The tier an update run applies the program for (a tier change names the new one)."""
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    engine = models.CharField(max_length=16, blank=True)
    steps = models.JSONField(default=list, blank=True)
    plan = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=list, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk} of {self.tenant_id}: {self.status}"

    @property
    def progress(self) -> int:
        """Percent of steps done, for the console's progress bar."""
        if not self.steps:
            return 0
        done = sum(1 for step in self.steps if step.get("status") == "done")
        return round(100 * done / len(self.steps))


class Rollout(models.Model):
    """The current tenant program applied to many tenants: planned first, then canary, then waves."""

    class Status(models.TextChoices):
        RUNNING = "running"
        HALTED = "halted"
        SUCCEEDED = "succeeded"
        CANCELLED = "cancelled"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    preview = models.BooleanField(default=False)
    canary = models.PositiveIntegerField(default=1)
    wave_size = models.PositiveIntegerField(default=10)
    max_parallel = models.PositiveIntegerField(default=2)
    max_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    halted_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"rollout {self.pk}: {self.status}"


class RolloutTenant(models.Model):
    """One tenant of a rollout: its wave, its plan, and what applying it did."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        UNCHANGED = "unchanged"
        CHANGED = "changed"
        FAILED = "failed"
        SKIPPED = "skipped"

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="tenants")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="rollout_entries")
    wave = models.PositiveIntegerField()
    position = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    plan = models.JSONField(null=True, blank=True)
    """What the engine's preview said it would change; None until the tenant is planned."""
    planned_changes = models.BooleanField(default=False)
    result = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    run = models.ForeignKey(
        ProvisioningRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["wave", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rollout", "tenant"], name="one_entry_per_rollout_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} in rollout {self.rollout_id} wave {self.wave}: {self.status}"
