"""Session, user and message middlewares run for browser pages and step aside on the API's paths."""

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory

from httpkit.browser_middleware import (
    BrowserAuthenticationMiddleware,
    BrowserMessageMiddleware,
    BrowserSessionMiddleware,
)


def through_the_stack(path: str):
    seen = {}

    def view(request):
        seen.update(
            session=hasattr(request, "session"),
            user=hasattr(request, "user"),
            messages=hasattr(request, "_messages"),
        )
        return HttpResponse()

    stack = BrowserSessionMiddleware(BrowserAuthenticationMiddleware(BrowserMessageMiddleware(view)))
    response = stack(RequestFactory().get(path))
    return seen, response


@pytest.mark.parametrize("path", ["/api/v1/listings/x", "/r/shop/abc", "/media/a.png", "/media-upload/t"])
def test_the_api_redirect_and_media_get_no_session_user_or_messages(path):
    seen, response = through_the_stack(path)
    assert seen == {"session": False, "user": False, "messages": False}
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize("path", ["/console/", "/admin/", "/control/v1/tenants", "/api/docs/"])
def test_browser_pages_keep_djangos_session_user_and_messages(path):
    seen, _ = through_the_stack(path)
    assert seen == {"session": True, "user": True, "messages": True}


def test_the_admins_middleware_checks_still_pass():
    call_command("check", fail_level="ERROR")
