"""Celery tasks: one task runs one step of a run; a run's steps go out as a chain (the workflow).
An update run is one task; a rollout is advanced by a task after every change of its tenants.

Tasks take ids and re-read their state. ``acks_late`` with ``reject_on_worker_lost`` puts the
message back when the worker dies mid-step, and the step, idempotent, runs again. Transient
errors (DynamoDB or PostgreSQL unreachable, a Pulumi stack lock held) are retried with backoff;
when the retries run out the run fails with the reason.
"""

from celery import Task, chain, shared_task
from django.conf import settings

from provisioning.errors import TRANSIENT_ERRORS, RunClaimed
from provisioning.models import ProvisioningRun, Rollout
from provisioning.offboarding import OFFBOARDING_STEPS
from provisioning.onboarding import ONBOARDING_STEPS
from provisioning.rollouts import rollout_advance, rollout_tenant_apply, rollout_tenant_fail
from provisioning.updates import run_update, update_run_fail
from provisioning.workflow import Steps, remaining_steps, run_fail, run_step

STEPS_BY_KIND: dict[str, Steps] = {
    ProvisioningRun.Kind.ONBOARD: ONBOARDING_STEPS,
    ProvisioningRun.Kind.OFFBOARD: OFFBOARDING_STEPS,
}


SURVIVES_A_KILL = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": settings.PROVISIONING_STEP_MAX_RETRIES,
}


class ProvisioningStepTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if isinstance(exc, RunClaimed):
            return  # a duplicate gave up waiting: the worker holding the run finishes the step
        run_id, name = args
        run_fail(run_id=run_id, name=name, error=exc)


@shared_task(base=ProvisioningStepTask, **SURVIVES_A_KILL)
def run_provisioning_step(run_id: int, name: str) -> None:
    kind = ProvisioningRun.objects.values_list("kind", flat=True).get(pk=run_id)
    run_step(run_id=run_id, name=name, steps=STEPS_BY_KIND[kind])


def run_workflow_start(run: ProvisioningRun) -> None:
    """Sends the run's unfinished steps as one chain."""
    names = remaining_steps(run)
    if names:
        chain(*(run_provisioning_step.si(run.pk, name) for name in names)).apply_async()


class UpdateRunTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if isinstance(exc, RunClaimed):
            return  # a duplicate gave up waiting: the worker holding the run finishes it
        update_run_fail(run_id=args[0], error=exc)


@shared_task(base=UpdateRunTask, **SURVIVES_A_KILL)
def run_update_task(run_id: int) -> None:
    run_update(run_id=run_id)


def update_run_start(run: ProvisioningRun) -> None:
    run_update_task.delay(run.pk)


@shared_task(**SURVIVES_A_KILL)
def rollout_advance_task(rollout_id: int) -> None:
    for entry_id in rollout_advance(rollout_id=rollout_id):
        rollout_apply_task.delay(entry_id)


class RolloutApplyTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if isinstance(exc, RunClaimed):
            return  # a duplicate gave up waiting: the worker holding the tenant's run finishes it
        rollout_tenant_fail(entry_id=args[0], error=exc)


@shared_task(base=RolloutApplyTask, **SURVIVES_A_KILL)
def rollout_apply_task(entry_id: int) -> None:
    outcome = rollout_tenant_apply(entry_id=entry_id)
    countdown = settings.ROLLOUT_BUSY_TENANT_RETRY_SECONDS if outcome.waiting else 0
    rollout_advance_task.apply_async((outcome.rollout_id,), countdown=countdown)


def rollout_start(rollout: Rollout) -> None:
    """Advances the rollout (plans, then applies) from a worker."""
    rollout_advance_task.delay(rollout.pk)
