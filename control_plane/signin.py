"""Sign-in lockouts: what django-axes counts, and how a refused sign-in is answered.

Every way in that checks a password goes through ``django.contrib.auth.authenticate`` (the
control-plane token, the console's login, Django's admin) or reports to axes as it does (an
invitation to an existing account). Axes counts failures in Redis per username and per client
address (``httpkit.client_address``); once either reaches ``LOGIN_FAILURE_LIMIT`` the next attempt
is refused before any password is hashed, for ``LOGIN_LOCKOUT_SECONDS`` after the last failure.

Axes checks the count before the password and counts after it, so parallel guesses would each pass
the check before any of them is counted. A sign-in therefore first takes its username's lock (in
the same Redis), which it holds until it is answered, and only then has axes check the count:
sign-ins for one username run one at a time, and a burst gets no more password checks than the
same guesses made one after another.
"""

import hashlib
import logging
import unicodedata
from collections.abc import Callable

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials, toggleable
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from redis.exceptions import RedisError

from control_plane.ops.views import is_api_path
from httpkit.problems import problem_response

logger = logging.getLogger(__name__)

LOCKED_OUT_TITLE = "Too many failed sign-ins"
# A sign-in holds its username's lock for its whole request; one whose process dies frees it after
# SIGNIN_LOCK_SECONDS. One that waited SIGNIN_LOCK_WAIT_SECONDS behind others is refused as locked out.
SIGNIN_LOCK_SECONDS = 30
SIGNIN_LOCK_WAIT_SECONDS = 10


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


def signin_lock_take(request: HttpRequest, credentials: dict) -> bool:
    """Takes the sign-in lock of the username in ``credentials`` for this request, waiting for the
    sign-ins that hold it; False if it could not be had in time. ``SigninLockMiddleware`` releases
    it once the request is answered, after its failure, if any, was counted."""
    username = lockout_username(request, credentials)
    if username is None:
        return True
    held = request.__dict__.setdefault("signin_locks", {})
    if username in held:
        return True
    digest = hashlib.sha256(username.encode()).hexdigest()
    lock = AxesProxyHandler.get_implementation().cache.lock(
        f"axes-lock-{digest}",
        timeout=SIGNIN_LOCK_SECONDS,
        blocking_timeout=SIGNIN_LOCK_WAIT_SECONDS,
        thread_local=False,
    )
    if not lock.acquire():
        return False
    held[username] = lock
    return True


def signin_allowed(request: HttpRequest, credentials: dict) -> bool:
    """For a way in that checks a password without ``authenticate``: True if it may check it now,
    holding the username's sign-in lock, as ``SigninLockBackend`` decides for ``authenticate``."""
    return signin_lock_take(request, credentials) and AxesProxyHandler.is_allowed(request, credentials)


class SigninLockBackend(AxesStandaloneBackend):
    """Axes' backend (first in ``AUTHENTICATION_BACKENDS``): checks the lockout under the username's
    sign-in lock, so that no other sign-in for it is checked or counted in between."""

    @toggleable
    def authenticate(
        self, request: HttpRequest, username: str | None = None, password: str | None = None, **kwargs
    ):
        if not signin_lock_take(request, get_credentials(username, **kwargs)):
            request.axes_locked_out = True
            raise AxesBackendPermissionDenied("Other sign-ins for this username held it too long")
        return super().authenticate(request, username=username, password=password, **kwargs)


class SigninLockMiddleware:
    """Releases the sign-in locks a request took, once it is answered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            for lock in request.__dict__.pop("signin_locks", {}).values():
                try:
                    lock.release()
                except RedisError:
                    logger.warning("a sign-in lock expired or could not be released; it expires by itself")
