"""The history's Celery tasks: the verification job, and the periodic sweep that signs checkpoints.

The verification job brings a tenant's cached chain verification up to date (or redoes it
whole); the verification a request answers leaves the long work to it. A job takes a slug,
re-reads the tenant and resumes from the cached state, so a killed job is simply run again;
``history_verify_enqueue`` queues at most one job per tenant and kind at a time.
"""

from dataclasses import asdict

from celery import shared_task
from django.core.cache import cache

from resale.binding import TenantModels, tenant_models
from resale.history.checkpoints import history_checkpoints_sign_grown
from resale.history.verification import (
    REQUEST_BUDGET_EVENTS,
    Verification,
    full_verification_due,
    history_verification_refresh,
)
from resale.registry import registered_tenant

JOB_LOCK_SECONDS = 900


def _lock_key(tenant_slug: str, full: bool) -> str:
    return f"history-verify:{tenant_slug}:{'full' if full else 'incremental'}"


def history_verify_enqueue(*, tenant_slug: str, full: bool) -> bool:
    """Queues a verification job unless one of that kind is queued or running; True if queued."""
    if not cache.add(_lock_key(tenant_slug, full), "1", timeout=JOB_LOCK_SECONDS):
        return False
    history_verify_job.delay(tenant_slug, full)
    return True


def history_verification_for_request(*, tenant_models: TenantModels) -> Verification:
    """What the audit API and the console's chain page answer: the cached verification brought
    forward over at most ``REQUEST_BUDGET_EVENTS`` new events; the rest, and a full
    re-verification once due, are queued as jobs."""
    verification = history_verification_refresh(tenant_models=tenant_models, budget=REQUEST_BUDGET_EVENTS)
    if not verification.complete:
        history_verify_enqueue(tenant_slug=tenant_models.slug, full=False)
    if full_verification_due(verification):
        history_verify_enqueue(tenant_slug=tenant_models.slug, full=True)
    return verification


@shared_task(acks_late=True, ignore_result=True)
def history_verify_job(tenant_slug: str, full: bool) -> None:
    try:
        tenant = registered_tenant(tenant_slug)
        if tenant is not None and tenant.resources.get("tables"):
            history_verification_refresh(tenant_models=tenant_models(tenant), full=full)
    finally:
        cache.delete(_lock_key(tenant_slug, full))


@shared_task(acks_late=True, ignore_result=True)
def history_checkpoints_sweep() -> dict[str, int]:
    """Periodic (Celery beat, every ``AUDIT_CHECKPOINT_SECONDS``): see ``resale.history.checkpoints``."""
    return asdict(history_checkpoints_sign_grown())
