"""The tenant API's content negotiation answers as DRF's own does, for any Accept and ?format=."""

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from resale.api.base import OneRendererNegotiation

MEDIA_TYPES = [
    "*/*", "application/json", "application/*", "text/html", "application/xml", "application/json; indent=4",
    "application/json;q=0", "*/*; q=0.1", "text/*", "application/problem+json", "", "  ", "garbage",
]  # fmt: skip
accept_headers = st.one_of(
    st.none(),
    st.lists(st.sampled_from(MEDIA_TYPES), min_size=1, max_size=4).map(",".join),
    st.text(max_size=40),
)
format_params = st.sampled_from([None, "json", "api", "xml", ""])


def answer(negotiation, renderers, accept, format_param):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    query = "" if format_param is None else "?" + urlencode({"format": format_param})
    request = Request(APIRequestFactory().post(f"/api/v1/listings{query}", **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, [r() for r in renderers])
    except Exception as exc:  # noqa: BLE001 - the error is part of the answer compared
        return type(exc).__name__, getattr(exc, "detail", str(exc))
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("renderers", [[JSONRenderer], [JSONRenderer, BrowsableAPIRenderer]])
@given(accept=accept_headers, format_param=format_params)
def test_answers_as_drf_does(renderers, accept, format_param):
    ours = answer(OneRendererNegotiation(), renderers, accept, format_param)
    assert ours == answer(DefaultContentNegotiation(), renderers, accept, format_param)


def test_a_plain_request_is_answered_without_parsing_accept(monkeypatch):
    monkeypatch.setattr(DefaultContentNegotiation, "select_renderer", pytest.fail)
    plain = ("JSONRenderer", "application/json")
    for accept in (None, "*/*", "application/json"):
        assert answer(OneRendererNegotiation(), [JSONRenderer], accept, None) == plain
