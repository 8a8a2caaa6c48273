"""Starting a bench's processes in groups of their own, stopping them, and waiting for them to serve."""

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from support.paths import ROOT


def start_process(command: list[str], env: dict, log: Path | None = None) -> subprocess.Popen:
    """``command`` as the leader of a new process group (so stopping it stops its workers too)."""
    output = log.open("wb") if log else None
    try:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        if output:
            output.close()  # the child holds its own copy


def stop_process(process: subprocess.Popen | None) -> None:
    """Stops the process group: SIGTERM, then SIGKILL after 20 seconds."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Calls ``check`` until it is true; a refused connection counts as not yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"timed out waiting for {what}")
