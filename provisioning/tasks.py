from celery import shared_task

from provisioning.onboarding import run_onboarding


@shared_task(acks_late=True, reject_on_worker_lost=True)
def onboard_tenant(run_id: int) -> None:
    run_onboarding(run_id)
