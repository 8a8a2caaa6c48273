"""Helpers for tests that run real server or worker processes: wait, find pool children, stop."""

import os
import signal
import subprocess
import time
from pathlib import Path


def wait_for(condition, *, timeout: float, interval: float = 0.01, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


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
