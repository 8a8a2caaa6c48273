"""Readiness of the platform's dependencies, one probe each, with a short timeout."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection

from resale.binding import platform_dynamodb_client


@dataclass(frozen=True)
class DependencyStatus:
    name: str
    ok: bool
    latency_ms: float
    error: str = ""


def _probe(name: str, check: Callable[[], object]) -> DependencyStatus:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason shown
        return DependencyStatus(name, False, _elapsed_ms(started), f"{type(exc).__name__}: {exc}"[:300])
    return DependencyStatus(name, True, _elapsed_ms(started))


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _check_postgresql() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    cache.client.get_client(write=True).ping()


def _check_dynamodb() -> None:
    platform_dynamodb_client(connect_timeout=2, read_timeout=2).list_tables(Limit=1)


def dependency_statuses() -> list[DependencyStatus]:
    return [
        _probe("dynamodb", _check_dynamodb),
        _probe("postgresql", _check_postgresql),
        _probe("redis", _check_redis),
    ]
