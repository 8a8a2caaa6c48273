import itertools
import os
import time
from contextlib import ExitStack

import pytest

from tests.dynamodb_local import DynamoDBLocal, free_port
from tests.processes import CeleryWorker, celery_worker

_slugs = itertools.count(1)


def pytest_collection_modifyitems(session, config, items):
    """Runs the Pulumi mock tests first, and keeps tests that share a costly fixture on one worker.

    Pulumi's mock runtime is process-global and bound to the event loop current when the test
    module set it up at collection; the browser tests' servers and workers leave the process's
    asyncio state such that the program's outputs later fail with "attached to a different loop".
    Under pytest-xdist (``--dist loadgroup``) a module's tests are spread over the workers one by
    one unless they share a group: those sharing a module-scoped fixture (a fault bed, a server) or
    the Pulumi mocks go as one group, the largest groups first, so each worker starts one of them.
    """
    items.sort(key=lambda item: item.get_closest_marker("pulumi_mocks") is None)
    for item in items:
        if item.get_closest_marker("pulumi_mocks"):
            item.add_marker(pytest.mark.xdist_group("pulumi_mocks"))
        elif any(
            definition.scope == "module"
            for definitions in item._fixtureinfo.name2fixturedefs.values()
            for definition in definitions
        ):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.fixture(autouse=True)
def offboarding_without_drain(settings):
    """Offboarding exports at once: only the tests of offboarding under traffic wait out the refusal."""
    settings.OFFBOARDING_DRAIN_SECONDS = 0
    settings.OFFBOARDING_EXPORT_SETTLE_SECONDS = 0


@pytest.fixture(scope="session")
def dynamodb_local():
    """One in-memory DynamoDB Local for the session; its endpoint is injected into settings."""
    server = DynamoDBLocal().start()
    from django.conf import settings

    previous = settings.DYNAMODB_ENDPOINT
    settings.DYNAMODB_ENDPOINT = server.endpoint
    os.environ["DYNAMODB_ENDPOINT"] = server.endpoint
    yield server
    settings.DYNAMODB_ENDPOINT = previous
    server.stop()


@pytest.fixture
def own_dynamodb_local(dynamodb_local, settings, monkeypatch):
    """A DynamoDB Local of the test's own, for tests that add an index to an existing table.

    DynamoDB Local runs its background jobs on a pool of 10 threads: three schedulers, one job per
    TTL-enabled table for as long as the table lives, and index creation. Past seven TTL tables
    (four tenants) a new index stays CREATING forever, so such a test cannot share the session's.
    """
    from tests.dynamodb_local import DynamoDBLocal

    server = DynamoDBLocal().start()
    settings.DYNAMODB_ENDPOINT = server.endpoint
    monkeypatch.setenv("DYNAMODB_ENDPOINT", server.endpoint)
    yield server
    server.stop()


@pytest.fixture
def start_celery_worker(dynamodb_local, tmp_path):
    """Starts real Celery worker processes (``tests.processes.celery_worker``) on the test database,
    this run's broker (REDIS_URL) and DynamoDB Local; each is stopped after the test. Their tasks
    commit for real: the test needs ``django_db(transaction=True)``."""
    from django.db import connection

    with ExitStack() as workers:

        def start(
            name: str, *, queues: list[str], env: dict[str, str] | None = None, **options
        ) -> CeleryWorker:
            base = {
                "POSTGRES_DB": connection.settings_dict["NAME"],
                "DYNAMODB_ENDPOINT": dynamodb_local.endpoint,
                "CELERY_TASK_ALWAYS_EAGER": "0",
            }
            worker = celery_worker(
                name=name, queues=queues, env={**base, **(env or {})}, log=tmp_path / f"{name}.log", **options
            )
            return workers.enter_context(worker)

        yield start


@pytest.fixture
def celery_eager():
    """Celery runs each task inline, as the chain would step by step on a worker."""
    from control_plane.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture
def ddb(dynamodb_local):
    """``ddb(tenant)``: a boto3 DynamoDB client in that tenant's namespace (a Tenant, or a slug)."""
    from resale.binding import TenantRef, tenant_dynamodb_client

    def client_for(tenant):
        return tenant_dynamodb_client(TenantRef(slug=tenant) if isinstance(tenant, str) else tenant)

    return client_for


@pytest.fixture(scope="session", autouse=True)
def _signin_counters_on_the_configured_redis():
    """django-axes' handler keeps the cache client of its first use for the process: make that
    the configured Redis, before any test points CACHES at a dead one."""
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.get_implementation()


@pytest.fixture
def fresh_signin_counters():
    """django-axes counts failed sign-ins in Redis under ``axes-*``, through a cache client its
    handler keeps from its first use; a test starts and ends at zero."""
    from axes.handlers.proxy import AxesProxyHandler

    counters = AxesProxyHandler.get_implementation().cache
    counters.delete_pattern("axes-*")
    yield counters
    counters.delete_pattern("axes-*")


@pytest.fixture
def fast_password_hashing(settings):
    """One password hash in a few microseconds instead of about a second on a busy machine.

    Tests of how many hashes a request costs count them; they do not time them.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def password_hashes(monkeypatch):
    """Counts the password hashes computed (checking a password hashes it once) with
    ``fast_password_hashing``'s hasher; each takes 20 ms, so that requests racing past the lockout
    check overlap as they would with a real hash, which takes longer still."""
    from django.contrib.auth.hashers import MD5PasswordHasher

    counted = []
    encode = MD5PasswordHasher.encode

    def counting(self, password, salt):
        counted.append(1)
        time.sleep(0.02)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    return counted


@pytest.fixture
def signin_counters_unreachable(fresh_signin_counters, monkeypatch):
    """django-axes' counters (and the sign-in locks kept with them) on a closed port, from after
    the real ones were reset until before they are reset again."""
    from axes.handlers.proxy import AxesProxyHandler
    from django_redis.cache import RedisCache

    closed = RedisCache(f"redis://127.0.0.1:{free_port()}/0", {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2}})
    monkeypatch.setattr(AxesProxyHandler.get_implementation(), "cache", closed)


@pytest.fixture
def unique_slug():
    def make(prefix: str = "t") -> str:
        return f"{prefix}-{os.getpid()}-{next(_slugs)}"

    return make


@pytest.fixture
def provisioned_tenant(db, dynamodb_local, unique_slug):
    """Onboards a tenant for real (the tenant program evaluated, its tables applied to DynamoDB Local,
    every onboarding step run in this process) and returns it, active."""
    from provisioning.onboarding import onboarding_run_create, run_onboarding
    from tenants.actions import do_create_tenant

    def make(slug: str | None = None, tier: str = "standard"):
        slug = slug or unique_slug()
        tenant = do_create_tenant(
            slug=slug, name=slug.title(), tier=tier, admin_email=f"admin@{slug}.example"
        )
        run_onboarding(onboarding_run_create(tenant).id)
        tenant.refresh_from_db()
        return tenant

    return make


@pytest.fixture
def receiver():
    """Starts local HTTP webhook receivers (``receiver(fail_first=N, secret=...)``, see its module);
    each is stopped after the test."""
    from tests.resale.webhooks.receiver import Receiver

    started = []

    def make(fail_first: int = 0, **options) -> Receiver:
        started.append(Receiver(fail_first=fail_first, **options).start())
        return started[-1]

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's server (S3, SQS, ...) over real HTTP on a free port, for one test module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def staff_client(db):
    """An API client holding a platform staff user's token."""
    from django.contrib.auth.models import User
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    user = User.objects.create_user("api-staff", password="pw-staff-1", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client
