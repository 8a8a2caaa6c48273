"""``python manage.py consume_streams``: the long-running stream consumer (see resale.streams.consumer)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from prometheus_client import start_http_server

from resale.streams.consumer import ShardStreamConsumer
from resale.streams.options import ConsumerOptions


class Command(BaseCommand):
    help = "Reads every consumed tenant's DynamoDB streams into history, search and webhooks."

    def add_arguments(self, parser):
        parser.add_argument("--name", default=None, help="consumer name (default: host:pid:random)")
        parser.add_argument("--metrics-port", type=int, default=settings.STREAMS_METRICS_PORT)
        parser.add_argument("--lease-seconds", type=float, default=settings.STREAMS_LEASE_SECONDS)
        parser.add_argument("--discovery-seconds", type=float, default=settings.STREAMS_DISCOVERY_SECONDS)

    def handle(self, *args, **options):
        if options["metrics_port"]:
            start_http_server(options["metrics_port"], addr="127.0.0.1")
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        consumer = ShardStreamConsumer(
            name=options["name"],
            options=ConsumerOptions(
                lease_seconds=options["lease_seconds"], discovery_seconds=options["discovery_seconds"]
            ),
        )
        consumer.run(stop)
