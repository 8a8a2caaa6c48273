"""Tasks only ``test_broker_stall`` loads into its worker (``--include``)."""

import os
import signal
from pathlib import Path

from control_plane.celery import app


@app.task(name="tests.faults.stall_redis_then_return")
def stall_redis_then_return(redis_pid: int) -> None:
    """Pauses Redis as its last act, so the worker acknowledges this task while Redis is stalled."""
    os.kill(redis_pid, signal.SIGSTOP)


@app.task(name="tests.faults.touch")
def touch(path: str) -> None:
    Path(path).touch()
