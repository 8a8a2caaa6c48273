"""Runs the steps of a provisioning run, one at a time, each at most once to completion.

Claim, act, commit. A worker claims the run (``provisioning.claims``) and marks the step running
with its claim token in a short transaction; it runs the step with no transaction open (an apply
takes seconds to minutes); it marks the step done in a second short transaction, only if the
step still carries its token. A second worker handed the same step while the first acts (a
duplicate message) finds the run claimed and retries later, by when the step is done. Every
step is idempotent, registry writes included (each is a ``tenants.actions`` action of its own),
so a worker killed mid-step, whose claim dies with its connection, is replaced by the
redelivered task running the step again, and the run converges.

A step that raises a transient error (``TRANSIENT_ERRORS``) leaves the run as it was for the
task to retry; any other error fails the run, and the tenant with it, naming the step and why.
"""

import logging
from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone

from provisioning.claims import run_claim
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


def _set_step(run: ProvisioningRun, name: str, status: str, detail: str = "", claim: str = "") -> None:
    for step in run.steps:
        if step["name"] == name:
            step.update(status=status, at=timezone.now().isoformat(), detail=detail)
            if claim:
                step["claim"] = claim
            else:
                step.pop("claim", None)


def _step(run: ProvisioningRun, name: str) -> dict:
    return next(step for step in run.steps if step["name"] == name)


def _step_status(run: ProvisioningRun, name: str) -> str:
    return _step(run, name)["status"]


def remaining_steps(run: ProvisioningRun) -> list[str]:
    return [step["name"] for step in run.steps if step["status"] != DONE]


def _locked(run_id: int) -> ProvisioningRun:
    runs = ProvisioningRun.objects.select_for_update(of=("self",)).select_related("tenant", "tenant__cell")
    return runs.get(pk=run_id)


def _finished(run: ProvisioningRun) -> bool:
    return run.status in (ProvisioningRun.Status.SUCCEEDED, ProvisioningRun.Status.FAILED)


def _claim_step(run_id: int, name: str, token: str) -> ProvisioningRun | None:
    """Marks the step running under the worker's claim token; None if it has nothing left to do."""
    with transaction.atomic():
        run = _locked(run_id)
        if _finished(run) or _step_status(run, name) == DONE:
            return None
        run.status = ProvisioningRun.Status.RUNNING
        run.error = ""
        _set_step(run, name, RUNNING, claim=token)
        run.save(update_fields=["status", "error", "steps"])
    return run


def _holds_step(run: ProvisioningRun, name: str, token: str) -> bool:
    return not _finished(run) and _step(run, name).get("claim") == token


def _commit_step(run: ProvisioningRun, name: str, token: str) -> ProvisioningRun:
    """Marks the step done with what it recorded on the run, if the worker still holds the step."""
    with transaction.atomic():
        current = _locked(run.pk)
        if not _holds_step(current, name, token):
            return current
        _set_step(run, name, DONE)
        if not remaining_steps(run):
            run.status = ProvisioningRun.Status.SUCCEEDED
            run.finished_at = timezone.now()
        run.save(update_fields=["engine", "plan", "result", "outputs", "steps", "status", "finished_at"])
    return run


def run_step(*, run_id: int, name: str, steps: Steps) -> ProvisioningRun:
    """Runs one step of a run unless it is done or the run has finished; returns the run.

    Raises RunClaimed (transient) while another worker holds the run."""
    step = dict(steps)[name]
    with run_claim(run_id) as token:
        run = _claim_step(run_id, name, token)
        if run is None:
            return ProvisioningRun.objects.get(pk=run_id)
        try:
            step(run)
        except TRANSIENT_ERRORS as exc:
            logger.warning("provisioning step %s of run %s will be retried: %s", name, run_id, exc)
            _note_retry(run_id=run_id, name=name, token=token, error=exc)
            raise
        except Exception as exc:
            logger.exception("provisioning step %s of run %s failed", name, run_id)
            return run_fail(run_id=run_id, name=name, error=exc)
        return _commit_step(run, name, token)


def _note_retry(*, run_id: int, name: str, token: str, error: Exception) -> None:
    with transaction.atomic():
        run = _locked(run_id)
        if _holds_step(run, name, token):
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
