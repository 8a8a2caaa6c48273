"""The API server as production runs it (granian; gunicorn for comparison), started and ready."""

import subprocess
import urllib.request
from pathlib import Path

from support.paths import VENV_BIN
from support.processes import start_process
from tests.processes import wait_until


def server_command(
    port: int, server: str = "granian", workers: int = 2, threads: int = 8, worker_class: str = "gthread"
) -> list[str]:
    """``workers`` processes of ``threads`` threads on ``port``, under granian or gunicorn."""
    if server == "granian":
        return [
            str(VENV_BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads), "--log-level", "warning",
            "control_plane.wsgi:application",
        ]  # fmt: skip
    return [
        str(VENV_BIN / "gunicorn"), "control_plane.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads), "--worker-class", worker_class,
        "--log-level", "warning",
    ]  # fmt: skip


def start_server(command: list[str], port: int, env: dict, log: Path | None = None) -> subprocess.Popen:
    """Starts ``command`` and returns once ``/healthz`` answers 200."""
    process = start_process(command, env, log)

    def healthy() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return response.status == 200

    wait_until(healthy, f"{command[0]} on port {port}", timeout=60, interval=0.25, ignoring=(OSError,))
    return process
