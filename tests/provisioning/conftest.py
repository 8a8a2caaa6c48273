import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.provisioning.processes import stop_process_group, wait_for


@pytest.fixture
def tenant_tables_in_dynamodb(ddb):
    """The names of the tables DynamoDB holds for a tenant (by its table-name prefix)."""

    def list_for(slug: str) -> set[str]:
        names, start = [], None
        while True:
            page = ddb(slug).list_tables(**({"ExclusiveStartTableName": start} if start else {}), Limit=100)
            names += page["TableNames"]
            start = page.get("LastEvaluatedTableName")
            if not start:
                break
        return {name for name in names if name.startswith(f"resale-{slug}-")}

    return list_for


@pytest.fixture
def program_change(tmp_path, monkeypatch):
    """Makes the next evaluations of the tenant program see the given change."""

    def change(sitecustomize: str) -> None:
        (tmp_path / "sitecustomize.py").write_text(sitecustomize)
        monkeypatch.setenv("PYTHONPATH", str(tmp_path))

    return change


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker(dynamodb_local, tmp_path):
    """One prefork worker with one pool process on the provisioning queue, emptied first, of the run's
    broker database (REDIS_URL: one per test run), on the test database.

    The worker sends each next step of a chain, and a rollout's next tasks, itself, routed by the
    settings, so it must consume the queue the settings name."""
    queue = "provisioning"
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "POSTGRES_DB": settings.DATABASES["default"]["NAME"],
        "DYNAMODB_ENDPOINT": dynamodb_local.endpoint,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
    }
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-Q", queue,
             "--pool", "prefork", "--concurrency", "1", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", f"prov-crash-{os.getpid()}@%h", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(lambda: b"ready." in log.read_bytes(), timeout=60, interval=0.2, what="the worker to start")
        yield worker, log
    finally:
        stop_process_group(worker)
