import pytest
import redis
from django.conf import settings


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


@pytest.fixture
def celery_worker(start_celery_worker):
    """One prefork worker with one pool process on the provisioning queue, emptied first.

    The worker sends each next step of a chain, and a rollout's next tasks, itself, routed by the
    settings, so it must consume the queue the settings name."""
    queue = "provisioning"
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)
    return start_celery_worker("prov-crash", queues=[queue])
