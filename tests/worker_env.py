"""Gives each pytest-xdist worker a Redis database of its own, before Django reads its settings.

Loaded with ``-p tests.worker_env`` (pyproject's addopts) so that it runs ahead of pytest-django,
which imports the settings while pytest loads the first conftest files. PostgreSQL needs nothing:
pytest-django names each worker's test database with the worker's id. Redis is shared by every
worker otherwise: the broker queues, the rate limiter's buckets and the sign-in counters that
tests empty and count.
"""

import os
import re

import pytest

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ... in a worker; unset without -n
    url = os.environ.get("REDIS_URL", DEFAULT_TEST_REDIS_URL)
    if worker:
        base = re.fullmatch(r"(redis://[^/]+)/(\d+)", url)
        if base is None:
            raise pytest.UsageError(f"REDIS_URL must end in a database number to run under xdist: {url}")
        url = f"{base[1]}/{int(base[2]) + int(worker.removeprefix('gw'))}"
    os.environ["REDIS_URL"] = url
