"""Celery tasks of erasure: the sweep that completes erasures their request left pending."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from resale.privacy.services import pending_erasures_complete


@shared_task(acks_late=True)
def pending_erasures_sweep() -> int:
    """Periodic (Celery beat): see ``resale.privacy.services``."""
    return pending_erasures_complete(untouched_for=timedelta(seconds=settings.ERASURE_RETRY_AFTER_SECONDS))
