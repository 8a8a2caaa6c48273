"""A Celery worker whose acknowledgement meets a stalled Redis runs tasks again once Redis is back.

With the broker's socket timeouts in the worker too, that acknowledgement failed ("Couldn't ack")
and left the worker's consumer waiting for ever: every order queued afterwards waited for a restart.
"""

import time

import pytest

from control_plane.celery import app
from tests.faults.harness import RedisServer
from tests.processes import celery_worker, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.faults]

QUEUE = "broker-stall"
STALL_SECONDS = 4


def test_a_worker_acknowledging_into_a_stalled_redis_consumes_again_after_it(tmp_path):
    redis = RedisServer(tmp_path)
    worker = celery_worker(
        name="broker-stall",
        queues=[QUEUE],
        env={"CELERY_BROKER_URL": redis.url, "CELERY_TASK_ALWAYS_EAGER": "0"},
        log=tmp_path / "worker.log",
        include=("tests.faults.broker_tasks",),
    )
    try:
        with worker as running, app.connection_for_write(redis.url) as connection:

            def send(name: str, *args) -> None:
                app.send_task(f"tests.faults.{name}", args=args, queue=QUEUE, connection=connection)

            send("stall_redis_then_return", redis.process.pid)
            wait_until(lambda: b"stall_redis_then_return" in running.log.read_bytes(), "the stall")
            time.sleep(STALL_SECONDS)
            redis.resume()

            marker = tmp_path / "ran-after-the-stall"
            send("touch", str(marker))
            wait_until(marker.exists, lambda: f"a task after the stall: {running.log.read_text()[-1500:]}")
    finally:
        redis.stop()
