"""Starting a bench's processes in groups of their own, and stopping them."""

import subprocess
from pathlib import Path

from support.paths import ROOT
from tests.processes import stop_process_group


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
    """Stops the process group, unless the process has exited: SIGTERM, then SIGKILL after 20 seconds."""
    if process is None or process.poll() is not None:
        return
    stop_process_group(process)
