"""Offboarding a tenant whose storefront keeps writing, through a real multi-process web server:
from the 202 on every web process refuses the tenant within seconds, writes admitted before
then finish, and every write acknowledged with a 2xx is in the verified export."""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings

from provisioning.actions import do_offboard
from tenants.actions import do_issue_api_key
from tests.dynamodb_local import free_port
from tests.processes import stop_process_group, wait_until

pytestmark = [pytest.mark.ddblocal, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ROUTE_CACHE_SECONDS = 1
# The server's DynamoDB calls: 1 s to connect, 3 s to read, one retry: an admitted write ends within 8 s.
SERVER_DYNAMODB = {
    "DYNAMODB_CONNECT_TIMEOUT_SECONDS": "1",
    "DYNAMODB_READ_TIMEOUT_SECONDS": "3",
    "DYNAMODB_MAX_RETRY_ATTEMPTS": "1",
}
DRAIN_SECONDS = ROUTE_CACHE_SECONDS + 8
WRITERS = 4


@pytest.fixture
def web_server(dynamodb_local, tmp_path):
    """granian with two worker processes, as ``make run`` serves, on the test database."""
    port = free_port()
    (tmp_path / "metrics").mkdir()
    env = {
        **os.environ,
        **SERVER_DYNAMODB,
        "POSTGRES_DB": settings.DATABASES["default"]["NAME"],
        "DYNAMODB_ENDPOINT": dynamodb_local.endpoint,
        "TENANT_ROUTE_CACHE_SECONDS": str(ROUTE_CACHE_SECONDS),
        "RATELIMIT_ENABLED": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
    }
    command = [
        str(Path(sys.executable).parent / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "2", "--blocking-threads", "4", "control_plane.wsgi:application",
    ]  # fmt: skip
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until(
            lambda: request(port, "GET", "/healthz")[0] == 200,
            lambda: f"the web server to start: {log.read_text()[-2000:]}",
            timeout=60,
            interval=0.3,
            ignoring=(OSError,),
        )
        yield port
    finally:
        stop_process_group(server)


def request(port: int, method: str, path: str, body: dict | None = None, key: str = "") -> tuple[int, dict]:
    """One request on a connection of its own, so that the writes spread over both processes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        headers = {"Content-Type": "application/json", **({"Authorization": f"Api-Key {key}"} if key else {})}
        connection.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload.startswith(b"{") else {}
    finally:
        connection.close()


class Writer(threading.Thread):
    def __init__(self, port: int, key: str, number: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.key, self.number, self.stop = port, key, number, stop
        self.outcomes: list[tuple[float, int, str | None]] = []  # (sent at, status, listing id)

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            body = {
                "seller_id": f"seller-{self.number}",
                "title": f"Item {self.number}-{n}",
                "category": "clothing",
                "condition": "good",
                "price": "10.00",
                "currency": "EUR",
                "attributes": {},
            }
            sent = time.monotonic()
            status, payload = request(self.port, "POST", "/api/v1/listings", body, self.key)
            self.outcomes.append((sent, status, payload.get("id") if status == 201 else None))


def test_offboarding_under_live_writes_refuses_them_within_seconds_and_exports_every_acknowledged_one(
    web_server, provisioned_tenant, celery_eager, settings, tmp_path
):
    settings.OFFBOARDING_DRAIN_SECONDS = DRAIN_SECONDS
    settings.OFFBOARDING_EXPORT_DIR = tmp_path / "exports"
    tenant = provisioned_tenant()
    key = do_issue_api_key(tenant=tenant, name="storefront", scopes=["read", "write"]).key
    stop = threading.Event()
    writers = [Writer(web_server, key, number, stop) for number in range(WRITERS)]
    for writer in writers:
        writer.start()
    wait_until(
        lambda: sum(status == 201 for w in writers for _, status, _ in w.outcomes) >= 40,
        "the writers to get 40 listings created",
        timeout=60,
        interval=0.1,
    )

    accepted_at = time.monotonic()
    run = do_offboard(tenant=tenant)  # the 202: committed, and the workflow runs here (eager)
    stop.set()
    for writer in writers:
        writer.join(30)

    run.refresh_from_db()
    tenant.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert tenant.status == "offboarded"
    outcomes = [outcome for writer in writers for outcome in writer.outcomes]
    assert {status for _, status, _ in outcomes} <= {201, 403}, outcomes
    acknowledged = {listing for _, status, listing in outcomes if status == 201}
    late = [sent - accepted_at for sent, status, _ in outcomes if status == 201 and sent > accepted_at]
    assert all(delay < ROUTE_CACHE_SECONDS + 1 for delay in late), late
    refused_after = [sent - accepted_at for sent, status, _ in outcomes if status == 403]
    assert refused_after and min(refused_after) < ROUTE_CACHE_SECONDS + 1
    assert sum(sent > accepted_at + ROUTE_CACHE_SECONDS + 1 for sent, _, _ in outcomes) > WRITERS

    export = Path(run.outputs["export"]["dir"]) / "listings.jsonl"
    exported = {json.loads(line)["id"]["S"] for line in export.read_text().splitlines()}
    assert acknowledged <= exported, sorted(acknowledged - exported)
    assert run.outputs["export"]["tables"]["listings"]["verified_items"] == len(exported)
