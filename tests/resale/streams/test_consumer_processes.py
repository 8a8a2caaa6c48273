"""The consumer as real processes: killed with SIGKILL mid-load, and two at once."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest
from django.db import connection

from resale.binding import tenant_dynamodb_client
from resale.history.selectors import history_iter
from resale.history.services import read_head
from resale.history.verification import history_verify
from resale.models import StreamShard
from tests.dynamodb_local import free_port
from tests.processes import wait_until
from tests.resale.factories import (
    link_and_click_create,
    listing_change,
    listing_create,
    models_of,
    order_create,
)

pytestmark = [pytest.mark.ddblocal, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
METRICS_PORT = free_port()  # one per xdist worker: two workers may run these tests at once


class ConsumerProcess:
    def __init__(
        self, name: str, log_dir: Path, dynamodb_endpoint: str, metrics_port: int = 0, lease: int = 3
    ):
        self.name = name
        self.log = log_dir / f"{name}.log"
        env = {
            **os.environ,
            "POSTGRES_DB": connection.settings_dict["NAME"],
            "DYNAMODB_ENDPOINT": dynamodb_endpoint,
            "STREAMS_POLL_IDLE_SECONDS": "0.05",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "consume_streams",
                "--name",
                name,
                "--lease-seconds",
                str(lease),
                "--discovery-seconds",
                "1",
                "--metrics-port",
                str(metrics_port),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def applied_batches(self) -> list[dict]:
        batches = []
        for line in self.log.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") == "applied":
                batches.append(entry)
        return batches


@pytest.fixture
def consumers(dynamodb_local, tmp_path):
    started: list[ConsumerProcess] = []

    def start(name: str, metrics_port: int = 0, lease: int = 3) -> ConsumerProcess:
        started.append(ConsumerProcess(name, tmp_path, dynamodb_local.endpoint, metrics_port, lease))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def _wait_for_history(models, count: int, timeout: float = 90) -> None:
    table = models.history.Meta.table_name
    client = tenant_dynamodb_client(models.tenant)
    wait_until(
        lambda: read_head(client, table)[0] >= count,
        lambda: f"the history to reach {count} (at {read_head(client, table)[0]})",
        timeout=timeout,
        interval=0.25,
    )
    time.sleep(2)


def _write_load(models, listings: int, changes: int, pause: float) -> int:
    """Creates listings and changes them; returns the number of writes made."""
    writes = 0
    created = []
    for _ in range(listings):
        created.append(listing_create(models))
        writes += 1
        time.sleep(pause)
    for round_ in range(changes):
        for listing in created:
            listing_change(listing, price=f"{100 + round_}.00")
            writes += 1
            time.sleep(pause)
    return writes


def _assert_history_is_exact(models, writes: int) -> None:
    events = list(history_iter(tenant_models=models))
    assert [event.seq for event in events] == list(range(1, writes + 1)), "gap or duplicate in seq"
    assert len({event.source for event in events}) == writes, "a stream record appended twice"
    versions = defaultdict(list)
    for event in events:
        versions[event.entity_id].append(json.loads(event.new)["version"])
    assert all(found == sorted(found) for found in versions.values()), "an entity's events out of order"
    assert history_verify(tenant_models=models).ok


def _metrics(port: int) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()


def test_a_consumer_killed_mid_load_and_restarted_loses_nothing_and_duplicates_nothing(
    provisioned_tenant, consumers
):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    first = consumers("killed", metrics_port=METRICS_PORT)
    written = []
    writer = threading.Thread(target=lambda: written.append(_write_load(models, 40, 3, 0.01)))
    writer.start()
    started = time.monotonic()
    wait_until(
        lambda: read_head(tenant_dynamodb_client(models.tenant), models.history.Meta.table_name)[0] >= 30,
        "the first consumer to apply 30 writes",
        timeout=60,
    )
    lag_series = f'resale_stream_lag_seconds{{tenant="{tenant.slug}"}}'
    # The history head moves inside a batch; the lag is published once the batch is checkpointed.
    wait_until(
        lambda: lag_series in _metrics(METRICS_PORT),
        f"the consumer to publish {lag_series}",
        timeout=60 - (time.monotonic() - started),
    )
    first.kill()
    assert first.applied_batches(), "killed before it applied anything"
    consumers("restarted")
    writer.join(120)
    _wait_for_history(models, written[0])
    _assert_history_is_exact(models, written[0])


def test_two_consumers_at_once_share_the_shards_and_no_record_is_read_by_both(provisioned_tenant, consumers):
    tenants = [provisioned_tenant(), provisioned_tenant()]
    a, b = consumers("consumer-a", lease=15), consumers("consumer-b", lease=15)
    wait_until(
        lambda: (
            set(StreamShard.objects.exclude(lease_owner="").values_list("lease_owner", flat=True))
            == {"consumer-a", "consumer-b"}
        ),
        "the consumers to split the shards",
        timeout=30,
        interval=0.2,
    )
    writes = {}
    for tenant in tenants:
        models = models_of(tenant)
        writes[tenant.slug] = _write_load(models, 15, 2, 0)
        for listing_id in list(models.listings.scan(attributes_to_get=["id"]))[:5]:
            order_create(models, listing_id=listing_id.id)
            writes[tenant.slug] += 1
        writes[tenant.slug] += link_and_click_create(models)
    for tenant in tenants:
        models = models_of(tenant)
        _wait_for_history(models, writes[tenant.slug])
        events = list(history_iter(tenant_models=models))
        assert [event.seq for event in events] == list(range(1, writes[tenant.slug] + 1))
        assert history_verify(tenant_models=models).ok

    ranges = defaultdict(list)
    for process in (a, b):
        batches = process.applied_batches()
        assert batches, f"{process.name} read nothing"
        assert sum(batch["duplicates"] for batch in batches) == 0, f"{process.name} re-read records"
        for batch in batches:
            ranges[batch["shard"]].append(
                (int(batch["first_sequence"]), int(batch["last_sequence"]), process.name)
            )
    for shard, read in ranges.items():
        read.sort()
        for (_, last, _), (first, _, _) in zip(read, read[1:], strict=False):
            assert first > last, f"shard {shard} read twice: {read}"
