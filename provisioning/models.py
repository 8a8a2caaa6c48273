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
