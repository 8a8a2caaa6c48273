"""Sign-in lockouts: what django-axes counts, and how a refused sign-in is answered.

Every way in that checks a password goes through ``django.contrib.auth.authenticate`` (the
control-plane token, the console's login, Django's admin) or reports to axes as it does (an
invitation to an existing account). Axes counts failures in Redis per username and per client
address (``httpkit.client_address``); once either reaches ``LOGIN_FAILURE_LIMIT`` the next attempt
is refused before any password is hashed, for ``LOGIN_LOCKOUT_SECONDS`` after the last failure.
"""

import unicodedata

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from httpkit.problems import problem_response

from control_plane.ops.views import is_api_path

LOCKED_OUT_TITLE = "Too many failed sign-ins"


def signin_username(username: str) -> str:
    """The username as Django's login form signs it in (NFKC), so ``ｓｔａｆｆ`` is ``staff``."""
    return unicodedata.normalize("NFKC", username)


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """Axes' counter key for a username: one for every spelling that reaches the same account.

    NFKC as Django signs in, and case-folded: a guess at ``STAFF`` counts against ``staff``.
    """
    username = (credentials or {}).get("username")
    if username is None:
        username = getattr(request, "data", request.POST).get("username")
    return signin_username(username).casefold() if isinstance(username, str) else None


def signin_failed(*, request: HttpRequest, username: str) -> None:
    """Counts a refused sign-in that ``authenticate`` did not refuse itself (a right password
    that still does not let the user in), so that it cannot be told apart by the lockout."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """429 with Retry-After: problem details on API paths, a page everywhere else."""
    minutes = max(1, round(settings.LOGIN_LOCKOUT_SECONDS / 60))
    detail = (
        f"Sign-ins for this username or from this address are refused for {minutes} minutes "
        "after the last failed attempt."
    )
    if is_api_path(request):
        response = problem_response(request, 429, LOCKED_OUT_TITLE, detail)
    else:
        response = render(
            request, "console/locked_out.html", {"title": LOCKED_OUT_TITLE, "detail": detail}, status=429
        )
    response["Retry-After"] = str(settings.LOGIN_LOCKOUT_SECONDS)
    return response
