"""The platform as ``make run`` starts it, a steady mix of tenant traffic against it, and what survived.

``RunningPlatform`` runs ``scripts/run.sh`` (supervisord and every process of ``make run``) on free ports,
with a DynamoDB Local of its own keeping its data on disk (reached through ``DynamoDBGate``), a
``redis-server`` of its own, and the test database. ``Traffic`` sends reads, writes, orders, clicks
and control-plane reads from several tenants and records every answer; ``FaultReport`` counts them
and what the platform kept.
"""

import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import urllib3

from tests.dynamodb_local import ROOT, free_port
from tests.processes import wait_until
from tests.resale.conftest import listing_body, order_body

TERMINAL_ORDER_STATUSES = frozenset({"completed", "payment_failed", "cancelled"})


class RedisServer:
    """A ``redis-server`` of the test's own on a free port, without persistence."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self._answers, "redis-server to start", timeout=20, interval=0.2)

    def _answers(self) -> bool:
        try:
            import redis

            return redis.Redis.from_url(self.url, socket_timeout=1).ping()
        except Exception:  # noqa: BLE001 - not listening yet
            return False

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        self.process.wait(10)


class DynamoDBGate:
    """``tests.faults.gate`` in a process of its own: the only way the platform reaches DynamoDB Local."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.open()

    def open(self) -> None:
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "python"),
                "-m",
                "tests.faults.gate",
                str(self.port),
                str(self.target_port),
            ],
            cwd=ROOT,
            start_new_session=True,
        )
        wait_until(self._listening, "the DynamoDB gate to listen", timeout=20, interval=0.05)

    def _listening(self) -> bool:
        assert self.process.poll() is None, "the DynamoDB gate exited"
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def cut(self) -> None:
        """Every connection through the gate closes now, and new ones are refused until ``open``."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


class RunningPlatform:
    """``scripts/run.sh`` in a session of its own; its programs are found through supervisorctl."""

    def __init__(
        self, workdir: Path, *, log: Path, database: str, redis_url: str, extra_env: dict[str, str]
    ) -> None:
        self.web_port = free_port()
        self.dynamodb_port = free_port()
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.dynamodb_endpoint = f"http://127.0.0.1:{self.dynamodb_port}"
        self.dynamodb_gate = DynamoDBGate(self.dynamodb_port)
        self.log = log
        run_dir = workdir / "run"
        run_dir.mkdir()
        self.env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}",
            "RUN_DIR": str(run_dir),
            "WEB_PORT": str(self.web_port),
            "WEB_WORKERS": "2",
            "WORKER_CONCURRENCY": "1",
            "DYNAMODB_LOCAL_PORT": str(self.dynamodb_port),
            "DYNAMODB_LOCAL_DIR": str(workdir / "dynamodb"),
            "DYNAMODB_ENDPOINT": self.dynamodb_gate.endpoint,
            "POSTGRES_DB": database,
            "REDIS_URL": redis_url,
            "PAYMENT_PROVIDER_URL": f"{self.url}/sandbox/payments",
            "SHIPPING_PROVIDER_URL": f"{self.url}/sandbox/shipping",
            "STREAMS_METRICS_PORT": "0",
            **extra_env,
        }
        self.process = subprocess.Popen(
            [str(ROOT / "scripts" / "run.sh")],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.http = urllib3.PoolManager(maxsize=32, retries=False, timeout=urllib3.Timeout(total=10))
        try:
            wait_until(self._serving, f"the platform to start (see {self.log})", timeout=300, interval=0.2)
        except AssertionError:
            self.stop()
            raise

    def _serving(self) -> bool:
        assert self.process.poll() is None, f"run.sh exited; see {self.log}"
        try:
            with socket.create_connection(("127.0.0.1", self.dynamodb_port), timeout=1):
                pass
            return self.http.request("GET", f"{self.url}/healthz").status == 200
        except (OSError, urllib3.exceptions.HTTPError):
            return False

    def pid(self, program: str) -> int:
        answer = subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "supervisorctl"),
                "-c",
                str(ROOT / "scripts" / "supervisord.conf"),
                "pid",
                program,
            ],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return int(answer.stdout.strip())

    @staticmethod
    def children(pid: int) -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        return [int(child) for child in found]

    def restarted(self, program: str, old_pid: int) -> bool:
        try:
            return self.pid(program) not in (0, old_pid)
        except (subprocess.CalledProcessError, ValueError):
            return False

    def sandbox(self, service: str, mode: str, delay_seconds: float = 0.5) -> None:
        body = {"service": service, "mode": mode, "delay_seconds": delay_seconds}
        assert self.http.request("POST", f"{self.url}/sandbox/control", json=body).status == 200

    def sandbox_made(self, kind: str, key: str) -> int:
        answer = self.http.request("GET", f"{self.url}/sandbox/records/{kind}/{key}")
        return json.loads(answer.data).get("made", 0)

    def stop(self) -> None:
        """SIGTERM to supervisord, as Ctrl-C would; it stops every program it started."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.dynamodb_gate.cut()


@dataclass(frozen=True)
class TenantClient:
    slug: str
    key: str
    link_code: str


@dataclass(frozen=True)
class Answer:
    op: str
    started: float
    ended: float
    status: int | None
    retry_after: bool
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400

    @property
    def unavailable(self) -> bool:
        return self.status == 503 and self.retry_after

    @property
    def bug(self) -> bool:
        """A 5xx that does not say a dependency failed (a 503 with Retry-After)."""
        return self.status is not None and self.status >= 500 and not self.unavailable


@dataclass
class Traffic:
    """Per tenant, one thread looping over: create a listing, read one, click, and (every third round)
    order the listing just created; one more thread reads the control plane's tenant list."""

    platform: RunningPlatform
    tenants: list[TenantClient]
    staff_token: str
    pause_seconds: float = 0.1
    answers: list[Answer] = field(default_factory=list)
    listings: dict[str, list[str]] = field(default_factory=dict)
    orders: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._tenant_loop, args=(t,)) for t in self.tenants]
        self._threads.append(threading.Thread(target=self._control_loop))
        for tenant in self.tenants:
            self.listings[tenant.slug] = []
            self.orders[tenant.slug] = []

    def start(self) -> "Traffic":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _call(self, op: str, method: str, path: str, headers: dict, body: dict | None = None):
        started = time.monotonic()
        try:
            response = self.platform.http.request(
                method, self.platform.url + path, json=body, headers=headers, redirect=False
            )
        except urllib3.exceptions.HTTPError as exc:
            answer = Answer(op, started, time.monotonic(), None, False, type(exc).__name__)
            response = None
        else:
            answer = Answer(op, started, time.monotonic(), response.status, "Retry-After" in response.headers)
        with self._lock:
            self.answers.append(answer)
        return response

    def _tenant_loop(self, tenant: TenantClient) -> None:
        headers = {"Authorization": f"Api-Key {tenant.key}"}
        round_ = 0
        while not self._stop.is_set():
            round_ += 1
            created = self._call(
                "write", "POST", "/api/v1/listings", headers, listing_body(seller_id=f"seller-{tenant.slug}")
            )
            if created is not None and created.status == 201:
                listing_id = json.loads(created.data)["id"]
                self.listings[tenant.slug].append(listing_id)
                if round_ % 3 == 0:
                    ordered = self._call(
                        "order",
                        "POST",
                        "/api/v1/orders",
                        {**headers, "Idempotency-Key": uuid.uuid4().hex},
                        order_body(listing_id),
                    )
                    if ordered is not None and ordered.status == 202:
                        self.orders[tenant.slug].append(json.loads(ordered.data)["id"])
            if self.listings[tenant.slug]:
                listing_id = random.choice(self.listings[tenant.slug])
                self._call("read", "GET", f"/api/v1/listings/{listing_id}", headers)
            self._call("click", "GET", f"/r/{tenant.slug}/{tenant.link_code}", {})
            self._stop.wait(self.pause_seconds)

    def _control_loop(self) -> None:
        headers = {"Authorization": f"Token {self.staff_token}"}
        while not self._stop.is_set():
            self._call("control", "GET", "/control/v1/tenants", headers)
            self._stop.wait(self.pause_seconds * 5)


@dataclass
class FaultReport:
    fault: str
    answers: list[Answer]
    fault_started: float
    lost_writes: int = 0
    unfinished_orders: int = 0
    charged_or_shipped_twice: int = 0
    history_missing: int = 0
    history_duplicated: int = 0

    @property
    def kinds(self) -> Counter:
        return Counter(
            "2xx" if a.ok else "503+Retry-After" if a.unavailable else "other" for a in self.answers
        )

    @property
    def bug_5xx(self) -> int:
        return sum(answer.bug for answer in self.answers)

    @property
    def others(self) -> Counter:
        return Counter(
            f"{a.op} {a.status or a.error}" for a in self.answers if not a.ok and not a.unavailable
        )

    @property
    def writes_back_after_seconds(self) -> float:
        """From the fault to the first write that succeeded after the first failed one (0: none failed)."""
        writes = sorted((a for a in self.answers if a.op == "write"), key=lambda a: a.started)
        first_failure = next((a for a in writes if not a.ok), None)
        if first_failure is None:
            return 0.0
        back = next((a for a in writes if a.ok and a.started > first_failure.started), None)
        return float("inf") if back is None else max(0.0, back.ended - self.fault_started)

    @property
    def slowest_answer_seconds(self) -> float:
        """The longest any request waited for its answer (or for the client's 10 s timeout)."""
        return max((a.ended - a.started for a in self.answers), default=0.0)

    def row(self) -> str:
        kinds = self.kinds
        return (
            f"| {self.fault} | {kinds['2xx']} | {kinds['503+Retry-After']} | {kinds['other']} "
            f"| {self.bug_5xx} | {self.lost_writes} | {self.unfinished_orders} "
            f"| {self.charged_or_shipped_twice} "
            f"| {self.history_missing} / {self.history_duplicated} | {self.writes_back_after_seconds:.1f} "
            f"| {self.slowest_answer_seconds:.1f} |"
        )


TABLE_HEADER = (
    "| fault | 2xx | 503 + Retry-After | other | 5xx not a dependency's | acknowledged writes lost "
    "| orders unfinished | charged or shipped twice | history missing / duplicated "
    "| writes back after (s) | slowest answer (s) |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)
