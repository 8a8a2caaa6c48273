"""Calling the WSGI application in-process, inside a test's database transaction."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.signals import request_finished, request_started
from django.db import close_old_connections


@contextmanager
def keeping_the_test_connection() -> Iterator[None]:
    """As Django's test client does: the start and end of a request must not close the database
    connection the test's transaction lives on."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
