"""Auditor pages over the tenant's history table: browse, verify the chain, export, chart."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from control_plane.console.selectors import tenant_tables
from resale.history.verification import history_verification_refresh
from tenants.models import Membership

pytestmark = [pytest.mark.django_db, pytest.mark.ddblocal]


@pytest.fixture
def auditor_tenant(provisioned_tenant, make_user):
    tenant = provisioned_tenant()
    user = make_user(f"auditor@{tenant.slug}.example")
    Membership.objects.create(user=user, tenant=tenant, role="auditor")
    client = Client()
    client.force_login(user)
    return tenant, client, tenant_tables(tenant)


EVENTS = [
    {
        "event": "INSERT",
        "entity_id": "l-1",
        "new": {"title": "Boots", "price": "10.00"},
        "actor": "api-key:a1",
    },
    {
        "event": "MODIFY",
        "entity_id": "l-1",
        "old": {"title": "Boots", "price": "10.00"},
        "new": {"title": "Boots", "price": "8.00"},
        "actor": "api-key:a2",
    },
    {"event": "INSERT", "entity_type": "order", "entity_id": "o-1", "new": {"status": "submitted"}},
    {"event": "REMOVE", "entity_id": "l-2", "old": {"title": "Hat"}, "actor": "api-key:a2"},
]


def test_the_history_is_newest_first_with_old_and_new_side_by_side(auditor_tenant, history_writer):
    tenant, client, tables = auditor_tenant
    history_writer(tables, EVENTS)
    response = client.get(f"/console/t/{tenant.slug}/history/")
    rows = response.context["rows"]
    assert [row.event["seq"] for row in rows] == [4, 3, 2, 1]
    modify = rows[2]
    price = next(change for change in modify.changes if change.name == "price")
    title = next(change for change in modify.changes if change.name == "title")
    assert (price.old, price.new, price.changed) == ("10.00", "8.00", True)
    assert not title.changed
    assert '<tr class="changed"><td data-label="Field"><code>price</code>' in response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"entity_type": "order"}, [3]),
        ({"entity_type": "listing", "entity_id": "l-1"}, [2, 1]),
        ({"actor": "api-key:a2"}, [4, 2]),
    ],
)
def test_the_history_filters_by_entity_and_actor(auditor_tenant, history_writer, params, expected):
    tenant, client, tables = auditor_tenant
    history_writer(tables, EVENTS)
    rows = client.get(f"/console/t/{tenant.slug}/history/", params).context["rows"]
    assert [row.event["seq"] for row in rows] == expected


def test_the_history_filters_by_time(auditor_tenant, history_writer):
    tenant, client, tables = auditor_tenant
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    history_writer(tables, [{"at": (start + timedelta(hours=n)).isoformat()} for n in range(5)])
    params = {"since": "2026-03-01T13:00", "until": "2026-03-01T15:00"}
    rows = client.get(f"/console/t/{tenant.slug}/history/", params).context["rows"]
    assert [row.event["seq"] for row in rows] == [3, 2]


def test_an_empty_history_renders(auditor_tenant):
    tenant, client, _ = auditor_tenant
    for page in ("history", "chain", "activity"):
        assert client.get(f"/console/t/{tenant.slug}/{page}/").status_code == 200
    assert b"No history events match" in client.get(f"/console/t/{tenant.slug}/history/").content


def test_the_chain_is_intact_until_an_event_is_tampered_with_and_the_page_answers_from_the_cache(
    auditor_tenant, history_writer
):
    tenant, client, tables = auditor_tenant
    written = history_writer(tables, EVENTS)
    status = client.get(f"/console/t/{tenant.slug}/chain/").context["status"]
    assert (status.ok, status.events) == (True, 4)
    written[2].update(actions=[tables.history.prev_hash.set("f" * 64)])
    cached = client.get(f"/console/t/{tenant.slug}/chain/").context["status"]
    assert (cached.ok, cached.verified_at >= status.verified_at) == (True, True)
    # The periodic full re-verification (or an auditor's POST /audit/verify) finds the change.
    history_verification_refresh(tenant_models=tables, full=True)
    broken = client.get(f"/console/t/{tenant.slug}/chain/")
    assert (broken.context["status"].ok, broken.context["status"].first_bad_seq) == (False, 3)
    assert b"Chain broken" in broken.content


def test_an_event_whose_content_was_altered_in_storage_breaks_the_chain_at_its_seq(
    auditor_tenant, history_writer
):
    """Its links still hold: only recomputing the event's hash from its content sees the change."""
    tenant, client, tables = auditor_tenant
    written = history_writer(tables, EVENTS)
    written[1].update(actions=[tables.history.new.set('{"price": "0.01", "title": "Boots"}')])
    response = client.get(f"/console/t/{tenant.slug}/chain/")
    assert (response.context["status"].ok, response.context["status"].first_bad_seq) == (False, 2)
    assert b"Chain broken" in response.content
    assert b'<strong id="first-bad-seq">#2</strong>' in response.content


def test_a_deleted_event_breaks_the_chain(auditor_tenant, history_writer):
    tenant, client, tables = auditor_tenant
    written = history_writer(tables, EVENTS)
    written[1].delete()
    status = client.get(f"/console/t/{tenant.slug}/chain/").context["status"]
    assert (status.ok, status.first_bad_seq) == (False, 2)


def test_a_chain_that_does_not_start_at_genesis_is_broken(auditor_tenant, history_writer):
    tenant, client, tables = auditor_tenant
    written = history_writer(tables, EVENTS)
    written[0].delete()
    status = client.get(f"/console/t/{tenant.slug}/chain/").context["status"]
    assert (status.ok, status.first_bad_seq) == (False, 1)


def test_the_consumers_bookkeeping_items_are_not_events(auditor_tenant, history_writer, ddb):
    """The stream consumer keeps its chain head and per-record markers in the same table."""
    tenant, client, tables = auditor_tenant
    written = history_writer(tables, EVENTS[:2])
    table = tables.history.Meta.table_name
    ddb = ddb(tables.tenant)
    ddb.put_item(
        TableName=table,
        Item={
            "chain": {"S": "head"},
            "seq": {"N": "0"},
            "head_seq": {"N": "2"},
            "head_hash": {"S": written[1].hash},
        },
    )
    ddb.put_item(TableName=table, Item={"chain": {"S": "applied#listings#abc"}, "seq": {"N": "0"}})
    rows = client.get(f"/console/t/{tenant.slug}/history/").context["rows"]
    assert [row.event["seq"] for row in rows] == [2, 1]
    assert client.get(f"/console/t/{tenant.slug}/chain/").context["status"].ok
    csv_text = b"".join(client.get(f"/console/t/{tenant.slug}/history.csv").streaming_content).decode()
    assert len(list(csv.DictReader(io.StringIO(csv_text)))) == 2


def test_the_history_pages_back_in_time_with_a_cursor(auditor_tenant, history_writer, settings):
    tenant, client, tables = auditor_tenant
    history_writer(tables, [{"entity_id": f"l-{n}"} for n in range(130)])
    first = client.get(f"/console/t/{tenant.slug}/history/").context["page"]
    second = client.get(f"/console/t/{tenant.slug}/history/", {"cursor": first.next_cursor}).context["page"]
    assert [r.event["seq"] for r in first.items] == list(range(130, 30, -1))
    assert [r.event["seq"] for r in second.items] == list(range(30, 0, -1))
    assert second.next_cursor is None


def test_the_csv_export_defuses_spreadsheet_formulas(auditor_tenant, history_writer):
    tenant, client, tables = auditor_tenant
    history_writer(tables, [{"actor": '=HYPERLINK("http://evil.example")', "entity_id": "@SUM(A1)"}])
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(client.get(f"/console/t/{tenant.slug}/history.csv").streaming_content).decode()
            )
        )
    )
    assert rows[0]["actor"].startswith("'=") and rows[0]["entity_id"] == "'@SUM(A1)"


def test_the_csv_export_has_every_matching_event(auditor_tenant, history_writer):
    tenant, client, tables = auditor_tenant
    history_writer(tables, EVENTS)
    response = client.get(f"/console/t/{tenant.slug}/history.csv", {"entity_type": "listing"})
    assert response["Content-Type"].startswith("text/csv")
    assert f"{tenant.slug}-history-" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(int(row["seq"]) for row in rows) == [1, 2, 4]
    assert {row["entity_type"] for row in rows} == {"listing"}
    assert '"price":"8.00"' in next(row["new"] for row in rows if row["seq"] == "2")


def test_the_activity_chart_counts_events_per_day(auditor_tenant, history_writer):
    tenant, client, tables = auditor_tenant
    today = datetime.now(UTC).replace(hour=0, minute=5)
    stamps = [today, today, today - timedelta(days=1), today - timedelta(days=40)]
    history_writer(tables, [{"at": stamp.isoformat()} for stamp in stamps])
    chart = client.get(f"/console/t/{tenant.slug}/activity/").context["chart"]
    assert chart.total == 3 and [bar.count for bar in chart.bars][-2:] == [1, 2]


def test_the_chain_page_shows_the_latest_checkpoint_and_offers_the_evidence_with_its_verifier(
    auditor_tenant, history_writer
):
    import io
    import zipfile

    from resale.history.checkpoints import history_checkpoint_create

    tenant, client, tables = auditor_tenant
    history_writer(tables, [{}, {}, {}])
    checkpoint = history_checkpoint_create(tenant_slug=tenant.slug, tenant_models=tables)
    page = client.get(f"/console/t/{tenant.slug}/chain/").content.decode()
    assert checkpoint.jws in page and 'id="evidence-download"' in page
    download = client.get(f"/console/t/{tenant.slug}/evidence.zip")
    names = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist()
    assert set(names) >= {"events.jsonl", "checkpoints.jsonl", "jwks.json", "verify_history.py"}
