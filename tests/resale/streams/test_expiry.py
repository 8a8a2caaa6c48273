import json
from datetime import UTC, datetime, timedelta

import pytest

from resale.history.selectors import HistoryFilter, history_iter
from resale.history.verification import history_verify
from resale.streams.records import EXPIRE, REMOVE, classify_event
from tests.dynamodb_local import DynamoDBLocal
from tests.processes import wait_until
from tests.resale.factories import drain, in_process_consumer, models_of

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def _click(models, code: str, expires_at: datetime):
    click = models.clicks(code=code, clicked_at=datetime.now(UTC).isoformat(), expires_at=expires_at)
    click.save()
    return click


@pytest.fixture
def own_dynamodb_local(dynamodb_local, settings):
    """A DynamoDB Local of this test's own.

    DynamoDB Local deletes expired items by itself and streams the deletions, within about a
    second on a fresh server with a few tables; but measured here, with some 30 TTL-enabled
    tables (what the session's server holds after a few tests) an item in the newest table was
    still not expired after 200 s. So the TTL test gets a server with only its tenant's tables.
    """
    server = DynamoDBLocal().start()
    settings.DYNAMODB_ENDPOINT = server.endpoint
    yield server
    server.stop()


def test_a_ttl_expiry_appears_as_expire_and_a_user_delete_as_remove(own_dynamodb_local, provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    _click(models, "expiring", datetime.now(UTC) - timedelta(minutes=1))
    deleted = _click(models, "deleted", datetime.now(UTC) + timedelta(days=60))
    deleted.delete()
    consumer = in_process_consumer()

    def four_events() -> list:
        drain(consumer)
        events = list(history_iter(tenant_models=models, history_filter=HistoryFilter(entity_type="click")))
        return events if len(events) == 4 else []

    events = wait_until(four_events, "the four click events", timeout=60, interval=1)
    by_code = {(event.entity_id.split("#")[0], event.event): event for event in events}
    assert sorted(by_code) == [
        ("deleted", "INSERT"),
        ("deleted", "REMOVE"),
        ("expiring", "EXPIRE"),
        ("expiring", "INSERT"),
    ]
    expired = by_code[("expiring", "EXPIRE")]
    assert expired.actor == "system:dynamodb-ttl" and expired.new is None
    assert json.loads(expired.old)["code"] == "expiring"
    assert by_code[("deleted", "REMOVE")].actor == "anonymous"
    assert history_verify(tenant_models=models).ok


def test_on_aws_a_remove_by_the_dynamodb_service_principal_is_an_expiry():
    identity = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert classify_event("REMOVE", identity, {"k": 1}, None) == EXPIRE
    assert classify_event("REMOVE", None, {"k": 1}, None) == REMOVE
    assert (
        classify_event("REMOVE", {"type": "Service", "principalId": "someone.else"}, {"k": 1}, None) == REMOVE
    )
