"""CPU time and resident memory of processes and their descendants, read from /proc."""

import os
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it, as they are at this moment."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and all its descendants, in seconds."""
    ticks = 0
    for member in process_tree(pid):
        if fields := _stat_fields(member):
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    total = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        total += sum(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:"))
    return total


class CpuAccount:
    """The processes a bench accounts CPU to, by name, each with its descendants; ``client`` is the
    bench's own process alone (the servers it started descend from it)."""

    def __init__(self) -> None:
        self.processes: dict[str, int] = {}

    def add(self, name: str, pid: int) -> None:
        self.processes[name] = pid

    def snapshot(self) -> dict[str, float]:
        """CPU seconds so far of each named process."""
        return {"client": time.process_time()} | {
            name: cpu_seconds(pid) for name, pid in self.processes.items()
        }

    def since(self, before: dict[str, float]) -> dict[str, float]:
        """CPU seconds each named process spent since ``before``."""
        return {name: seconds - before[name] for name, seconds in self.snapshot().items()}
