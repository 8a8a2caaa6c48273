"""The environment a bench runs the platform in, and its scratch PostgreSQL database."""

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from support.dynamodb import start_dynamodb
from support.paths import ROOT, VENV_BIN
from tests.dynamodb_local import DynamoDBLocal, free_port

BENCH_DATABASE = os.environ.get("BENCH_POSTGRES_DB", "bench_resale_api")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
"""The database and Redis db of the benches that start the API themselves (``api_load``,
``request_profile``, ``noisy_neighbour``): name others so that two benches can run at once."""


def platform_env(
    *,
    dynamodb_endpoint: str,
    api_port: int,
    database: str = BENCH_DATABASE,
    redis_url: str = BENCH_REDIS_URL,
) -> dict[str, str]:
    """Settings of a platform of the bench's own: its DynamoDB Local, port, database and Redis db."""
    return {
        "DJANGO_SETTINGS_MODULE": "control_plane.settings",
        "DYNAMODB_ENDPOINT": dynamodb_endpoint,
        "POSTGRES_DB": database,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
    }


def scratch_database(env: dict[str, str]) -> None:
    """Drops and recreates ``env``'s ``POSTGRES_DB``, then migrates it."""
    database = env["POSTGRES_DB"]
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )


@dataclass(frozen=True)
class BenchPlatform:
    dynamodb: DynamoDBLocal
    api_port: int
    """Free when taken, for the bench's own API server or base URL."""


@contextmanager
def bench_platform() -> Iterator[BenchPlatform]:
    """This process set up as the platform of ``platform_env``: its own DynamoDB Local, a free API
    port and a scratch database, with Django set up; on leaving, DynamoDB Local is stopped and the
    broker's queues are emptied of what the bench enqueued (its orders' workflow: no worker runs)."""
    api_port = free_port()
    dynamodb = start_dynamodb()
    env = platform_env(dynamodb_endpoint=dynamodb.endpoint, api_port=api_port)
    os.environ.update(env)
    try:
        scratch_database(env)
        import django

        django.setup()
        yield BenchPlatform(dynamodb=dynamodb, api_port=api_port)
    finally:
        dynamodb.stop()
        from control_plane.celery import app

        app.control.purge()
