"""Prometheus' multiprocess files left by web workers that are gone.

With several worker processes, each writes its series to files in ``PROMETHEUS_MULTIPROC_DIR``
named after its pid, and /metrics adds them up. A dead worker's counters and histograms stay
(what they counted happened); its live gauges must go, or /metrics would keep adding a process
that no longer exists. granian has no hook that runs when a worker exits (gunicorn's
``child_exit`` did this), so every worker sweeps when it starts: a respawned worker clears
what the dead one left.
"""

import contextlib
import os
import re
from pathlib import Path

from prometheus_client import multiprocess

_PID_IN_NAME = re.compile(r"_(\d+)\.db$")


def mark_dead_workers(directory: str) -> set[int]:
    """Marks every process with files in ``directory`` that is no longer running; returns their pids."""
    pids = {
        int(match.group(1))
        for path in Path(directory).glob("*.db")
        if (match := _PID_IN_NAME.search(path.name))
    }
    dead = {pid for pid in pids if not _running(pid)}
    for pid in dead:
        with contextlib.suppress(FileNotFoundError):  # another worker starting removed it first
            multiprocess.mark_process_dead(pid, directory)
    return dead


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: running, and not ours to judge
    return True
