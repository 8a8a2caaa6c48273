"""A refusal over quota is counted, not logged; other client errors still are."""

import logging

import pytest
from django.test import Client

from httpkit.request_context import RequestContextLogFilter


@pytest.mark.urls("tests.httpkit.usage_urls")
def test_a_429_answer_logs_no_warning_and_a_404_still_does(unique_slug, caplog):
    caplog.set_level(logging.INFO, logger="django.request")
    client = Client()
    slug = unique_slug("logs")

    client.get(f"/t/{slug}/429")
    assert not [record for record in caplog.records if record.name == "django.request"]

    client.get(f"/t/{slug}/404")
    assert [record.status_code for record in caplog.records if record.name == "django.request"] == [404]


@pytest.mark.urls("tests.httpkit.usage_urls")
def test_djangos_warning_for_a_4xx_carries_the_request_id_and_tenant_as_every_other_line(unique_slug, caplog):
    caplog.set_level(logging.INFO, logger="django.request")
    slug = unique_slug("logs")
    response = Client().get(f"/t/{slug}/404", HTTP_X_REQUEST_ID="req-12345")
    (record,) = [record for record in caplog.records if record.name == "django.request"]
    assert RequestContextLogFilter().filter(record)
    assert (record.request_id, record.tenant) == (response["X-Request-ID"], slug) == ("req-12345", slug)
