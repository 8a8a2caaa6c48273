"""``python manage.py consume_stream_effects``: on AWS, applies the search and webhook effects the
tenants' Lambdas queue (see resale.streams.effects_drainer)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from resale.streams.effects_drainer import DrainerOptions, StreamEffectsDrainer


class Command(BaseCommand):
    help = "Drains every consumed tenant's stream-effects SQS queue into search and webhooks."

    def add_arguments(self, parser):
        parser.add_argument("--wait-seconds", type=int, default=settings.STREAM_EFFECTS_WAIT_SECONDS)
        parser.add_argument("--discovery-seconds", type=float, default=settings.STREAMS_DISCOVERY_SECONDS)
        parser.add_argument(
            "--apply-concurrency", type=int, default=settings.STREAM_EFFECTS_APPLY_CONCURRENCY
        )

    def handle(self, *args, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        drainer = StreamEffectsDrainer(
            DrainerOptions(
                wait_seconds=options["wait_seconds"],
                discovery_seconds=options["discovery_seconds"],
                apply_concurrency=options["apply_concurrency"],
            )
        )
        drainer.run(stop)
