import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from tests.resale.factories import (
    api_client_for,
    drain,
    in_process_consumer,
    listing_change,
    listing_create,
    models_of,
)

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]

AUDIT_PATHS = ["/api/v1/audit/events", "/api/v1/audit/verify", "/api/v1/audit/report.csv"]


@pytest.fixture
def tenant_with_history(provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    listings = [listing_create(models) for _ in range(3)]
    listing_change(listings[0], title="Renamed camera")
    drain(in_process_consumer())
    return tenant, listings


@pytest.mark.parametrize("path", AUDIT_PATHS)
def test_audit_endpoints_refuse_keys_without_the_audit_scope(tenant_with_history, path):
    tenant, _ = tenant_with_history
    response = api_client_for(tenant, "read", "write").get(path)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert APIClient().get(path).status_code == 401


def test_an_auditor_of_another_tenant_sees_only_that_tenants_history(tenant_with_history, provisioned_tenant):
    tenant, listings = tenant_with_history
    other = provisioned_tenant()
    listing_create(models_of(other))
    drain(in_process_consumer())
    other_auditor = api_client_for(other, "audit")

    events = other_auditor.get("/api/v1/audit/events", {"limit": 100}).json()["items"]
    assert len(events) == 1 and events[0]["entity_id"] not in {listing.id for listing in listings}
    by_entity = other_auditor.get(
        "/api/v1/audit/events", {"entity_type": "listing", "entity_id": listings[0].id}
    ).json()
    assert by_entity["items"] == []
    verification = other_auditor.get("/api/v1/audit/verify").json()
    assert (verification["ok"], verification["events"], verification["first_bad_seq"]) == (True, 1, None)
    report = b"".join(other_auditor.get("/api/v1/audit/report.csv").streaming_content).decode()
    assert all(listing.id not in report for listing in listings)


def test_events_come_oldest_first_in_pages_and_filter_by_entity_and_time(tenant_with_history):
    tenant, listings = tenant_with_history
    auditor = api_client_for(tenant, "audit")
    first = auditor.get("/api/v1/audit/events", {"limit": 2}).json()
    second = auditor.get("/api/v1/audit/events", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [e["seq"] for e in first["items"] + second["items"]] == [1, 2, 3, 4]
    assert second["next_cursor"] is None
    event = first["items"][0]
    # The fields the audit API promises, written out: not the code's own list, and not the
    # verifier's LEGACY_HASHED_FIELDS (version 1's hash input), whose first names match these.
    assert set(event) >= {
        "seq",
        "event",
        "entity_type",
        "entity_id",
        "old",
        "new",
        "actor",
        "at",
        "hash",
        "prev_hash",
    }
    assert event["prev_hash"] == "0" * 64 and event["event"] == "INSERT" and event["old"] is None

    renamed = auditor.get(
        "/api/v1/audit/events", {"entity_type": "listing", "entity_id": listings[0].id}
    ).json()
    assert [(e["event"], e["new"]["title"]) for e in renamed["items"]][-1] == ("MODIFY", "Renamed camera")
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert auditor.get("/api/v1/audit/events", {"since": future}).json()["items"] == []
    assert len(auditor.get("/api/v1/audit/events", {"until": future}).json()["items"]) == 4
    bad = auditor.get("/api/v1/audit/events", {"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]


def test_an_events_cursor_is_signed_for_its_tenant_and_filters(tenant_with_history, provisioned_tenant):
    tenant, listings = tenant_with_history
    other = provisioned_tenant()
    for _ in range(3):
        listing_create(models_of(other))
    drain(in_process_consumer())
    auditor, other_auditor = api_client_for(tenant, "audit"), api_client_for(other, "audit")
    cursor = auditor.get("/api/v1/audit/events", {"limit": 1}).json()["next_cursor"]

    foreign = other_auditor.get("/api/v1/audit/events", {"limit": 1, "cursor": cursor})
    assert foreign.status_code == 400 and "cursor" in foreign.json()["errors"]
    refiltered = auditor.get("/api/v1/audit/events", {"limit": 1, "entity_type": "listing", "cursor": cursor})
    assert refiltered.status_code == 400
    report = auditor.get("/api/v1/audit/report.csv", {"cursor": cursor})
    assert report.status_code == 400


def test_the_csv_report_is_streamed_with_every_event(tenant_with_history):
    tenant, _ = tenant_with_history
    response = api_client_for(tenant, "audit").get("/api/v1/audit/report.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(row["seq"]) for row in rows] == [1, 2, 3, 4]
    assert rows[3]["event"] == "MODIFY" and "Renamed camera" in rows[3]["new"]


def test_verify_answers_from_its_cache_within_a_budget_and_a_full_run_still_finds_old_tampering(
    tenant_with_history, monkeypatch
):
    from resale.binding import tenant_dynamodb_client
    from resale.history import tasks
    from resale.history.verification import history_verification_refresh

    tenant, _ = tenant_with_history
    models = models_of(tenant)
    auditor = api_client_for(tenant, "audit")
    monkeypatch.setattr(tasks, "REQUEST_BUDGET_EVENTS", 3)
    partial = auditor.get("/api/v1/audit/verify").json()
    assert (partial["ok"], partial["events"], partial["head_seq"], partial["complete"]) == (True, 3, 4, False)
    whole = auditor.get("/api/v1/audit/verify").json()
    assert (whole["ok"], whole["events"], whole["complete"], whole["gaps"]) == (True, 4, True, [])

    tenant_dynamodb_client(models.tenant).update_item(
        TableName=models.history.Meta.table_name,
        Key={"chain": {"S": "events"}, "seq": {"N": "2"}},
        UpdateExpression="SET actor = :someone",
        ExpressionAttributeValues={":someone": {"S": "api-key:innocent"}},
    )
    assert auditor.get("/api/v1/audit/verify").json()["ok"] is True
    assert auditor.post("/api/v1/audit/verify").status_code == 202
    history_verification_refresh(tenant_models=models, full=True)
    listing_create(models)
    drain(in_process_consumer())
    after = auditor.get("/api/v1/audit/verify").json()
    assert (after["ok"], after["first_bad_seq"]) == (False, 2)


def test_the_csv_report_is_bounded_per_call_and_continues_from_its_cursor(tenant_with_history):
    tenant, _ = tenant_with_history
    auditor = api_client_for(tenant, "audit")
    first = auditor.get("/api/v1/audit/report.csv", {"limit": 3})
    rows = list(csv.DictReader(io.StringIO(b"".join(first.streaming_content).decode())))
    assert [int(row["seq"]) for row in rows] == [1, 2, 3] and 'rel="next"' in first["Link"]
    second = auditor.get("/api/v1/audit/report.csv", {"limit": 3, "cursor": first["X-Next-Cursor"]})
    rows = list(csv.DictReader(io.StringIO(b"".join(second.streaming_content).decode())))
    assert [int(row["seq"]) for row in rows] == [4] and "X-Next-Cursor" not in second
    assert auditor.get("/api/v1/audit/report.csv", {"limit": 10**9}).status_code == 400
