"""A fixed concurrency of callers for a fixed time: throughput, latency percentiles and CPU spent."""

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import urllib3

from support.cpu import CpuAccount


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


@dataclass(frozen=True)
class LoadResult:
    name: str
    rps: float
    """Successful operations a second."""
    p50: float
    p99: float
    """Latencies of the successful operations, in milliseconds."""
    failed: int
    ops: int
    cpu: dict[str, float]
    """CPU seconds each accounted process spent during the run."""

    def cpu_ms(self, process: str) -> float:
        """Milliseconds of one process's CPU per successful operation."""
        return self.cpu.get(process, 0.0) * 1000 / max(1, self.ops)

    def cpu_per_op(self) -> str:
        """Milliseconds of CPU per successful operation, by process."""
        return " ".join(f"{name} {self.cpu_ms(name):.2f}" for name in sorted(self.cpu))


def run_load(
    name: str, call: Callable[[int], bool], seconds: float, concurrency: int, cpu: CpuAccount
) -> LoadResult:
    """Runs ``call(n)`` (true when the operation succeeded) from ``concurrency`` threads for
    ``seconds``; ``n`` is unique across the threads of a run."""
    cpu_before = cpu.snapshot()
    stop = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    failures = [0] * concurrency

    def worker(index: int) -> None:
        n = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                ok = call(index * 1_000_000 + n)
            except (OSError, urllib3.exceptions.HTTPError):
                ok = False  # a reset or refused connection is a failed request, not a dead thread
            n += 1
            if ok:
                latencies[index].append((time.perf_counter() - started) * 1000)
            else:
                failures[index] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    flat = [value for chunk in latencies for value in chunk]
    return LoadResult(
        name=name,
        rps=len(flat) / elapsed,
        p50=statistics.median(flat) if flat else float("nan"),
        p99=percentile(flat, 0.99),
        failed=sum(failures),
        ops=len(flat),
        cpu=cpu.since(cpu_before),
    )


def merge(runs: list[LoadResult]) -> LoadResult:
    """Runs of equal length alternated with the other side, so neither gains from warming up."""
    return LoadResult(
        name=runs[0].name,
        rps=statistics.mean(run.rps for run in runs),
        p50=statistics.mean(run.p50 for run in runs),
        p99=max(run.p99 for run in runs),
        failed=sum(run.failed for run in runs),
        ops=sum(run.ops for run in runs),
        cpu={name: sum(run.cpu[name] for run in runs) for name in runs[0].cpu},
    )
