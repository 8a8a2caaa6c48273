"""Platform health for staff: each dependency, the Celery workers, the broker's queue, the consumers' lag."""

from dataclasses import dataclass

from django.conf import settings
from kombu.exceptions import ChannelError

from control_plane.celery import app as celery_app
from control_plane.ops.readiness import DependencyStatus, dependency_statuses
from resale.models import StreamConsumer
from resale.streams.selectors import TenantStreamLag, stream_consumers_live, stream_lag_by_tenant


@dataclass(frozen=True)
class WorkerStatus:
    name: str
    ok: bool
    reply: str


@dataclass(frozen=True)
class PlatformHealth:
    dependencies: list[DependencyStatus]
    workers: list[WorkerStatus]
    workers_error: str
    queued_tasks: dict[str, int | None]
    stream_consumers: list[StreamConsumer]
    stream_lag: list[TenantStreamLag]

    @property
    def ok(self) -> bool:
        """Every dependency ready, a worker answering, and no unfinished shard left unread."""
        return (
            all(d.ok for d in self.dependencies)
            and bool(self.workers)
            and not self.workers_error
            and not any(tenant.unread for tenant in self.stream_lag)
        )


def celery_workers(timeout: float) -> tuple[list[WorkerStatus], str]:
    """The workers that answer a broadcast ping within ``timeout`` seconds."""
    try:
        replies = celery_app.control.inspect(timeout=timeout).ping() or {}
    except Exception as exc:  # noqa: BLE001 - a broker failure is shown on the page, not raised
        return [], f"{type(exc).__name__}: {exc}"[:300]
    return [
        WorkerStatus(name=name, ok=reply.get("ok") == "pong", reply=str(reply.get("ok", reply)))
        for name, reply in sorted(replies.items())
    ], ""


def queued_task_counts() -> dict[str, int | None]:
    """Messages waiting in each task queue (``CELERY_TASK_ROUTES``), or None where the broker cannot say.

    Redis keeps no queue while it is empty, so a passive declare that finds none means zero.
    """
    queues = sorted({route["queue"] for route in settings.CELERY_TASK_ROUTES.values()})
    counts: dict[str, int | None] = {}
    try:
        with celery_app.connection_for_read() as connection:
            for queue in queues:
                try:
                    declared = connection.default_channel.queue_declare(queue=queue, passive=True)
                    counts[queue] = int(declared.message_count)
                except ChannelError:
                    counts[queue] = 0
    except Exception:  # noqa: BLE001 - an unknown depth is shown as unknown
        return dict.fromkeys(queues)
    return counts


def platform_health() -> PlatformHealth:
    workers, error = celery_workers(settings.CONSOLE_WORKER_PING_TIMEOUT_SECONDS)
    return PlatformHealth(
        dependencies=dependency_statuses(),
        workers=workers,
        workers_error=error,
        queued_tasks=queued_task_counts(),
        stream_consumers=stream_consumers_live(),
        stream_lag=stream_lag_by_tenant(),
    )
