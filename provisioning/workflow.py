"""Runs the steps of a provisioning run, one at a time, each at most once to completion.

A step runs inside a transaction that holds the run's row lock, and is marked done in that same
transaction: its registry writes and its completion commit together, and a second worker handed
the same step (a redelivered message) waits for the lock, then finds it done. Steps that act on
DynamoDB or Pulumi are idempotent, so a worker killed mid-step and run again converges.

A step that raises a transient error (``TRANSIENT_ERRORS``) leaves the run as it was for the
task to retry; any other error fails the run, and the tenant with it, naming the step and why.
"""

import logging
from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone

from provisioning.errors import TRANSIENT_ERRORS
from provisioning.models import ProvisioningRun
from tenants.actions import do_change_tenant_status
from tenants.models import Tenant

logger = logging.getLogger(__name__)

Step = Callable[[ProvisioningRun], None]
Steps = Sequence[tuple[str, Step]]

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


def run_create(*, tenant: Tenant, kind: str, steps: Steps) -> ProvisioningRun:
    return ProvisioningRun.objects.create(
        tenant=tenant, kind=kind, steps=[{"name": name, "status": PENDING} for name, _ in steps]
    )


def _set_step(run: ProvisioningRun, name: str, status: str, detail: str = "") -> None:
    for step in run.steps:
        if step["name"] == name:
            step.update(status=status, at=timezone.now().isoformat(), detail=detail)


def _step_status(run: ProvisioningRun, name: str) -> str:
    return next(step["status"] for step in run.steps if step["name"] == name)


def remaining_steps(run: ProvisioningRun) -> list[str]:
    return [step["name"] for step in run.steps if step["status"] != DONE]


def _locked(run_id: int) -> ProvisioningRun:
    runs = ProvisioningRun.objects.select_for_update(of=("self",)).select_related("tenant", "tenant__cell")
    return runs.get(pk=run_id)


def _finished(run: ProvisioningRun) -> bool:
    return run.status in (ProvisioningRun.Status.SUCCEEDED, ProvisioningRun.Status.FAILED)


def run_step(*, run_id: int, name: str, steps: Steps) -> ProvisioningRun:
    """Runs one step of a run unless it is done or the run has finished; returns the run."""
    step = dict(steps)[name]
    with transaction.atomic():
        run = _locked(run_id)
        if _finished(run) or _step_status(run, name) == DONE:
            return run
        run.status = ProvisioningRun.Status.RUNNING
        run.error = ""
        _set_step(run, name, RUNNING)
        run.save(update_fields=["status", "error", "steps"])
    try:
        with transaction.atomic():
            run = _locked(run_id)
            if _finished(run) or _step_status(run, name) == DONE:
                return run
            step(run)
            _set_step(run, name, DONE)
            if not remaining_steps(run):
                run.status = ProvisioningRun.Status.SUCCEEDED
                run.finished_at = timezone.now()
            run.save()
    except TRANSIENT_ERRORS as exc:
        logger.warning("provisioning step %s of run %s will be retried: %s", name, run_id, exc)
        _note_retry(run_id=run_id, name=name, error=exc)
        raise
    except Exception as exc:
        logger.exception("provisioning step %s of run %s failed", name, run_id)
        return run_fail(run_id=run_id, name=name, error=exc)
    return run


def _note_retry(*, run_id: int, name: str, error: Exception) -> None:
    with transaction.atomic():
        run = _locked(run_id)
        _set_step(run, name, PENDING, f"retrying after {type(error).__name__}: {error}")
        run.save(update_fields=["steps"])


def run_fail(*, run_id: int, name: str, error: BaseException) -> ProvisioningRun:
    """Fails the run at this step and the tenant with it; the reason names the step and the error."""
    reason = f"{name}: {type(error).__name__}: {error}"
    with transaction.atomic():
        run = _locked(run_id)
        if run.status == ProvisioningRun.Status.SUCCEEDED:
            return run
        _set_step(run, name, FAILED, f"{type(error).__name__}: {error}")
        run.status = ProvisioningRun.Status.FAILED
        run.error = reason
        run.finished_at = timezone.now()
        run.save(update_fields=["steps", "status", "error", "finished_at"])
        do_change_tenant_status(tenant=run.tenant, status=Tenant.Status.FAILED, reason=reason)
    return run


def run_resume(*, run: ProvisioningRun) -> ProvisioningRun:
    """Makes a failed run runnable again from its failed step; finished steps stay done."""
    with transaction.atomic():
        locked = _locked(run.pk)
        for step in locked.steps:
            if step["status"] != DONE:
                step.update(status=PENDING, detail="")
        locked.status = ProvisioningRun.Status.PENDING
        locked.error = ""
        locked.finished_at = None
        locked.save(update_fields=["steps", "status", "error", "finished_at"])
    return locked


def run_all_steps(*, run_id: int, steps: Steps) -> ProvisioningRun:
    """Runs every unfinished step in order, in this process (the Celery chain does it step by step)."""
    run = ProvisioningRun.objects.get(pk=run_id)
    for name in remaining_steps(run):
        run = run_step(run_id=run_id, name=name, steps=steps)
        if run.status == ProvisioningRun.Status.FAILED:
            break
    return run
