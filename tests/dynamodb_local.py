"""Starts AWS's DynamoDB Local (the pinned npm package, Java 17) in memory, for the tests and the benches."""

import os
import socket
import subprocess
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.processes import wait_until

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DynamoDBLocal:
    """One DynamoDB Local on ``port`` (a free one unless given).

    Its output goes to ``log`` when given: a bench runs it for minutes, long enough to fill a pipe
    nobody reads. Without ``log`` its errors are kept to explain an exit during start-up.
    """

    def __init__(
        self, port: int | None = None, log: Path | None = None, data_dir: Path | None = None
    ) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "DynamoDBLocal":
        """Starts it in memory, or on ``data_dir`` (where a restart finds what it kept)."""
        env = {**os.environ, "DYNAMODB_LOCAL_PORT": str(self.port)}
        storage = ["--in-memory"]
        if self.data_dir:
            env["DYNAMODB_LOCAL_DIR"], storage = str(self.data_dir), []
        output = self.log.open("ab" if self.data_dir else "wb") if self.log else None
        try:
            self.process = subprocess.Popen(
                [str(ROOT / "scripts" / "dynamodb-local.sh"), *storage],
                env=env,
                stdout=output or subprocess.DEVNULL,
                stderr=subprocess.STDOUT if output else subprocess.PIPE,
                start_new_session=True,
            )
        finally:
            if output:
                output.close()  # the child holds its own copy
        client = boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}, connect_timeout=1),
        )

        def listening() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"DynamoDB Local exited: {self.errors()}")
            client.list_tables(Limit=1)
            return True

        try:
            wait_until(
                listening,
                f"DynamoDB Local to listen on {self.endpoint}",
                timeout=timeout,
                interval=0.25,
                ignoring=(BotoCoreError, ClientError),
            )
        except AssertionError:
            self.stop()
            raise
        return self

    def errors(self) -> str:
        """The end of what DynamoDB Local wrote, from its log or its error pipe."""
        if self.log:
            return self.log.read_text(errors="replace")[-2000:]
        return self.process.stderr.read().decode()[-2000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
