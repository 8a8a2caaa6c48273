import gzip
import json

import pytest
from django.core.management import call_command

from resale.history.exports import history_export
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
    assert [line["seq"] for line in lines] == [1, 2] and {line["tenant"] for line in lines} == {tenant.slug}
    with gzip.open(first.path, "rt") as handle:
        assert "fp_secret_123" not in handle.read()

    assert history_export(tenant=tenant, directory=tmp_path).events == 0
    listing_create(models)
    drain(consumer)
    call_command("export_history", tenant=[tenant.slug], directory=str(tmp_path))
    files = sorted((tmp_path / tenant.slug).glob("*.jsonl.gz"))
    assert [[line["seq"] for line in _lines(path)] for path in files] == [[1, 2], [3]]
    assert history_export(tenant=tenant, full=True, directory=tmp_path).events == 3
