"""Stream-to-history and stream-to-search lag under a write load (target: p99 < 2 s).

Starts its own in-memory DynamoDB Local, onboards a tenant in the database named by
POSTGRES_DB (migrated first; use a scratch database), runs ``manage.py consume_streams`` as a
real process, and writes listings (creates and price changes) from several threads at a steady
rate. Lag of one write = when its effect became durable minus the timestamp the writer stored
in the item (same clock):

- history: the event's ``recorded_at`` minus the item's ``updated_at``, for every write;
- search: the document's ``indexed_at`` minus the ``updated_at`` it indexed, for each listing's
  last write (a search document keeps only the latest state);
- checkpoint: the ``signed_at`` of the first signed checkpoint covering an event minus the
  event's ``recorded_at`` (how long an event waits to be under a signature; the beat sweep,
  run here by a thread as Celery beat would run it, signs every ``AUDIT_CHECKPOINT_SECONDS``), for
  every event.

    POSTGRES_DB=bench_resale_streams .venv/bin/python bench/stream_lag.py --rate 50 --seconds 30
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

from support.dynamodb import start_dynamodb
from support.load import percentile
from support.onboard import onboarded_tenant
from support.paths import ROOT

from tests.processes import wait_until


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50, help="writes per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--update-share", type=float, default=0.5, help="share of writes that change a listing"
    )
    parser.add_argument("--metrics-port", type=int, default=8034)
    args = parser.parse_args()

    dynamodb = start_dynamodb()
    try:
        measure(args, dynamodb.endpoint)
    finally:
        dynamodb.stop()  # also when the set-up fails (a missing database): no JVM left behind


def measure(args: argparse.Namespace, dynamodb_endpoint: str) -> None:
    os.environ["DYNAMODB_ENDPOINT"] = dynamodb_endpoint
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from resale.binding import tenant_dynamodb_client, tenant_models
    from resale.history.selectors import history_iter
    from resale.history.services import read_head
    from resale.models import SearchDocument

    slug = f"bench-{uuid.uuid4().hex[:8]}"
    tenant = onboarded_tenant(slug, "standard")
    models = tenant_models(tenant)

    consumer = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "consume_streams",
            "--name",
            f"bench-{slug}",
            "--metrics-port",
            str(args.metrics_port),
            "--discovery-seconds",
            "1",
        ],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    from django.conf import settings
    from django.db import connection

    from resale.history.checkpoints import history_checkpoints_sign_grown

    stop_signing = threading.Event()

    def beat() -> None:
        while not stop_signing.wait(settings.AUDIT_CHECKPOINT_SECONDS):
            history_checkpoints_sign_grown()
        connection.close()

    signer = threading.Thread(target=beat)
    signer.start()
    try:
        time.sleep(3)
        writes = 0
        lock = threading.Lock()
        listings: list = []
        interval = args.threads / args.rate
        stop_at = time.monotonic() + args.seconds

        def writer(index: int) -> None:
            nonlocal writes
            import random

            mine = []
            next_at = time.monotonic() + index * interval / args.threads
            while time.monotonic() < stop_at:
                now = datetime.now(UTC).isoformat()
                if mine and random.random() < args.update_share:
                    listing = random.choice(mine)
                    listing.price = f"{random.randint(1, 999)}.00"
                    listing.updated_at = now
                    listing.save()
                else:
                    listing = models.listings(
                        id=uuid.uuid4().hex,
                        seller_id=f"s{index}",
                        title=f"Bench camera {index}",
                        description="load",
                        category="cameras",
                        condition="good",
                        price="10.00",
                        currency="EUR",
                        created_at=now,
                        updated_at=now,
                        actor="bench",
                    )
                    listing.save()
                    mine.append(listing)
                with lock:
                    writes += 1
                next_at += interval
                time.sleep(max(0.0, next_at - time.monotonic()))
            with lock:
                listings.extend(mine)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(args.threads)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        wait_until(
            lambda: read_head(tenant_dynamodb_client(tenant), models.history.Meta.table_name)[0] >= writes,
            "the consumer to catch up",
            timeout=120,
            interval=0.5,
        )
        from resale.history.checkpoints import checkpoints_iter

        head = read_head(tenant_dynamodb_client(tenant), models.history.Meta.table_name)[0]
        wait_until(
            lambda: any(checkpoint.seq >= head for checkpoint in checkpoints_iter(tenant_models=models)),
            "a checkpoint to cover the history's head",
            timeout=120,
            interval=0.5,
        )

        def parse(value: str) -> datetime:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))

        import json

        history_lags = [
            (parse(event.recorded_at) - parse(json.loads(event.new)["updated_at"])).total_seconds()
            for event in history_iter(tenant_models=models)
        ]
        search_lags = [
            (document.indexed_at - parse(document.listing_updated_at)).total_seconds()
            for document in SearchDocument.objects.filter(tenant_slug=slug)
        ]
        signed = [
            (checkpoint.seq, parse(checkpoint.signed_at))
            for checkpoint in checkpoints_iter(tenant_models=models)
        ]
        checkpoint_lags = []
        for event in history_iter(tenant_models=models):
            covering = next(at for seq, at in signed if seq >= event.seq)
            checkpoint_lags.append((covering - parse(event.recorded_at)).total_seconds())
        print(f"writes: {writes} in {elapsed:.1f} s ({writes / elapsed:.1f}/s), {len(listings)} listings")
        for name, lags in (
            ("stream-to-history", history_lags),
            ("stream-to-search", search_lags),
            ("history-to-checkpoint", checkpoint_lags),
        ):
            print(
                f"{name}: n={len(lags)} p50={percentile(lags, 0.5):.3f}s p99={percentile(lags, 0.99):.3f}s "
                f"max={max(lags):.3f}s mean={statistics.fmean(lags):.3f}s"
            )
    finally:
        stop_signing.set()
        signer.join(60)
        consumer.terminate()
        consumer.wait(15)


if __name__ == "__main__":
    main()
