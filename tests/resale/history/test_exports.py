import gzip
import hashlib
import json

import pytest
import rfc8785
from django.core.management import call_command

from resale.history.exports import history_export
from resale.history.verify_history import verify_export
from tests.resale.factories import drain, in_process_consumer, listing_create, models_of, order_create

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def _lines(path):
    with gzip.open(path, "rt") as handle:
        return [json.loads(line) for line in handle]


def test_the_export_hands_each_event_over_once_as_gzip_json_lines(provisioned_tenant, tmp_path):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    listing = listing_create(models)
    order_create(models, listing_id=listing.id)
    consumer = in_process_consumer()
    drain(consumer)
    first = history_export(tenant=tenant, directory=tmp_path)
    assert first.events == 2
    lines = _lines(first.path)
    assert [line["seq"] for line in lines] == [1, 2]
    assert first.path.name.startswith(f"history-{tenant.slug}-")
    with gzip.open(first.path, "rt") as handle:
        assert "fp_secret_123" not in handle.read()

    assert history_export(tenant=tenant, directory=tmp_path).events == 0
    listing_create(models)
    drain(consumer)
    call_command("export_history", tenant=[tenant.slug], directory=str(tmp_path))
    files = sorted((tmp_path / tenant.slug).glob("*.jsonl.gz"))
    assert [[line["seq"] for line in _lines(path)] for path in files] == [[1, 2], [3]]
    assert history_export(tenant=tenant, full=True, directory=tmp_path).events == 3


def _verified_from_the_contract_alone(events: list[dict]) -> bool:
    """An auditor's verifier written from API.md's words, sharing no code with the platform."""
    previous = "0" * 64
    for seq, event in enumerate(events, start=1):
        body = {name: value for name, value in event.items() if name != "hash"}
        if event["seq"] != seq or event["prev_hash"] != previous:
            return False
        if hashlib.sha256(rfc8785.dumps(body)).hexdigest() != event["hash"]:
            return False
        previous = event["hash"]
    return True


def test_exported_files_verify_as_exported_with_the_standalone_verifier_and_the_contract_alone(
    provisioned_tenant, tmp_path
):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    listing = listing_create(models, title="Caméra «argentique»")
    order_create(models, listing_id=listing.id)
    consumer = in_process_consumer()
    drain(consumer)
    first = history_export(tenant=tenant, directory=tmp_path)
    listing_create(models)
    drain(consumer)
    second = history_export(tenant=tenant, directory=tmp_path)

    result = verify_export([first.path, second.path])
    assert (result["ok"], result["events"]) == (True, 3), result
    assert _verified_from_the_contract_alone(_lines(first.path) + _lines(second.path))
    assert not verify_export([second.path])["ok"], "a file without the events before it verified"

    tampered = tmp_path / "tampered.jsonl.gz"
    lines = _lines(first.path)
    lines[1]["actor"] = "api-key:innocent"
    with gzip.open(tampered, "wt") as handle:
        handle.writelines(json.dumps(line) + "\n" for line in lines)
    result = verify_export([tampered, second.path])
    assert (result["ok"], result["first_bad_seq"]) == (False, 2)
    assert not _verified_from_the_contract_alone(lines)
