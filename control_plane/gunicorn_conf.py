"""gunicorn settings for `make run`: with several workers, /metrics must add up every worker's
series, so each worker writes them to PROMETHEUS_MULTIPROC_DIR and a dead worker's files are
marked as such."""

from prometheus_client import multiprocess


def child_exit(server, worker) -> None:
    multiprocess.mark_process_dead(worker.pid)
