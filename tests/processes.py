"""Helpers for tests and benches that run real server or worker processes: wait, start a Celery
worker, find pool children, stop."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    what: str | Callable[[], str],
    *,
    timeout: float = 30,
    interval: float = 0.05,
    ignoring: tuple[type[Exception], ...] = (),
) -> T:
    """Calls ``condition`` every ``interval`` seconds until it returns something true, and returns
    that; AssertionError after ``timeout`` seconds, saying ``what`` was awaited (a callable is asked
    then, to describe the state the wait ended in). An exception of ``ignoring`` counts as not yet
    (a server still refusing connections)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except ignoring:
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            description = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout:g} s waiting for {description}")
        time.sleep(interval)


def pool_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process's group (it was started in a session of its own), SIGKILL if it lingers."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


@dataclass(frozen=True)
class CeleryWorker:
    process: subprocess.Popen
    hostname: str
    log: Path
    """Everything the worker wrote (at INFO: each task received, retried or lost)."""


@contextmanager
def celery_worker(
    *,
    name: str,
    queues: list[str],
    env: dict[str, str],
    log: Path,
    pool: str = "prefork",
    concurrency: int = 1,
    include: tuple[str, ...] = (),
) -> Iterator[CeleryWorker]:
    """A ``celery worker`` of the project's app in a session of its own, consuming ``queues``, with
    ``env`` over this process's environment and the task modules of ``include`` loaded too; yielded
    once it logged that it is ready, stopped with its pool on leaving."""
    hostname = f"{name}-{os.getpid()}@localhost"
    command = [
        sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-Q", ",".join(queues),
        "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", hostname,
        *(["--include", ",".join(include)] if include else []),
    ]  # fmt: skip
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]), **env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the Celery worker exited: {log.read_text(errors='replace')[-2000:]}")
        return b"ready." in log.read_bytes()

    try:
        wait_until(ready, f"the Celery worker {hostname} to start", timeout=60, interval=0.2)
        yield CeleryWorker(process=process, hostname=hostname, log=log)
    finally:
        if process.poll() is None:
            stop_process_group(process)
