"""Staff tokens for the control-plane API: issued for a password, expiring, stored as digests.

A wrong password, an unknown username and a non-staff user's right password are refused alike:
one error, one password hash each (Django hashes for unknown users too), and each counts as a
failed sign-in, so neither the answer, the time it takes nor the lockout tells them apart.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest
from django_redis.exceptions import ConnectionInterrupted
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from redis.exceptions import RedisError
from rest_framework import exceptions, status

from control_plane.signin import signin_failed, signin_username
from httpkit.problems import ProblemError, ServiceUnavailable


class StaffSignInRefused(ProblemError):
    status_code = status.HTTP_403_FORBIDDEN
    title = "Forbidden"


REFUSED = "These credentials do not open the control-plane API."
LOCKOUT_STORE_DOWN = "Sign-ins are refused while the failed sign-in counters (Redis) cannot be reached."


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def staff_token_issue(*, request: HttpRequest, username: str, password: str) -> IssuedToken:
    """A new token for a staff user's right password, valid for ``STAFF_TOKEN_TTL_SECONDS``.

    Without the lockout's counters no password is checked: 503, never unlimited guessing.
    """
    username = signin_username(username)
    try:
        user = authenticate(request, username=username, password=password)
    except (ConnectionInterrupted, RedisError) as exc:
        raise ServiceUnavailable(LOCKOUT_STORE_DOWN, retry_after=5) from exc
    if user is None or not user.is_staff:
        if user is not None:
            signin_failed(request=request, username=username)
        raise StaffSignInRefused(REFUSED)
    token, key = AuthToken.objects.create(user=user)
    user_logged_in.send(sender=type(user), request=request, user=user)
    return IssuedToken(token=key, expires_at=token.expiry)


class StaffTokenAuthentication(TokenAuthentication):
    """knox's token check; a token that is not even text is "Invalid token." (401), not a 500."""

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        return super().authenticate_credentials(token)


class StaffTokenScheme(KnoxTokenScheme):
    """OpenAPI: the staff token is knox's ``Authorization: Token <token>``."""

    target_class = StaffTokenAuthentication
    name = "staffToken"
