"""Sessions, users and messages only where a browser session can exist.

The tenant API, the affiliate redirect and media are called with an API key or anonymously,
never with a session; yet Django's session, authentication and message middlewares ran on
every one of their requests, a large part of the server's CPU for a redirect. These
subclasses step aside on ``SESSIONLESS_PATH_PREFIXES`` and behave as Django's own everywhere
else (the console, the admin, the control plane); being subclasses, the admin's system checks
still find them. Django's CSRF middleware stays as it is, on every path (``check --deploy``
looks for it by name, and the API's views are exempt from it anyway).
"""

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse


def is_sessionless(request: HttpRequest) -> bool:
    return request.path_info.startswith(tuple(settings.SESSIONLESS_PATH_PREFIXES))


class _BrowserOnly:
    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_sessionless(request):
            return self.get_response(request)
        return super().__call__(request)


class BrowserSessionMiddleware(_BrowserOnly, SessionMiddleware):
    pass


class BrowserAuthenticationMiddleware(_BrowserOnly, AuthenticationMiddleware):
    pass


class BrowserMessageMiddleware(_BrowserOnly, MessageMiddleware):
    pass
