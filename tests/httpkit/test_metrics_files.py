"""A web worker that died leaves its counts in /metrics but not its live gauges."""

import os
import subprocess
import sys

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from httpkit.metrics_files import mark_dead_workers

WORKER = """
import sys
from prometheus_client import Counter, Gauge
Counter("served", "requests served").inc(3)
Gauge("busy", "requests in progress", multiprocess_mode="livesum").set(1)
print("ready", flush=True)
sys.stdin.read()
"""


def _start_worker(directory) -> subprocess.Popen:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout.readline() == "ready\n"
    return worker


def _stop(worker: subprocess.Popen) -> None:
    worker.stdin.close()
    worker.wait(10)


def _samples(directory) -> dict[str, float]:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, str(directory))
    return {sample.name: sample.value for metric in registry.collect() for sample in metric.samples}


def test_a_dead_workers_live_gauge_goes_and_its_counts_stay(tmp_path):
    dead, running = _start_worker(tmp_path), _start_worker(tmp_path)
    try:
        _stop(dead)
        assert _samples(tmp_path) == {"served_total": 6, "busy": 2}

        assert mark_dead_workers(str(tmp_path)) == {dead.pid}

        assert _samples(tmp_path) == {"served_total": 6, "busy": 1}
        assert mark_dead_workers(str(tmp_path)) == {dead.pid}  # its counter files stay, and nothing breaks
    finally:
        _stop(running)
