"""Login throttling: failed console logins counted in Redis per username and per client address.

Once either count reaches its limit within the window, further attempts are refused before
the password is even checked, until the window (restarted by each failure) runs out.
"""

from django.conf import settings
from django.core.cache import cache


def _user_key(username: str) -> str:
    return f"console:login-failures:user:{username.strip().lower()}"


def _address_key(address: str) -> str:
    return f"console:login-failures:addr:{address}"


def login_is_throttled(*, username: str, address: str) -> bool:
    counts = cache.get_many([_user_key(username), _address_key(address)])
    return (
        counts.get(_user_key(username), 0) >= settings.CONSOLE_LOGIN_FAILURES_PER_USER
        or counts.get(_address_key(address), 0) >= settings.CONSOLE_LOGIN_FAILURES_PER_ADDRESS
    )


def login_failed(*, username: str, address: str) -> None:
    window = settings.CONSOLE_LOGIN_WINDOW_SECONDS
    for key in (_user_key(username), _address_key(address)):
        cache.add(key, 0, timeout=window)
        cache.incr(key)
        cache.touch(key, timeout=window)


def login_succeeded(*, username: str) -> None:
    cache.delete(_user_key(username))
