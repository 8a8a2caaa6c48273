"""Does DynamoDB Local keep what it acknowledged when it is SIGKILLed? PutItem against TransactWriteItems.

Per round, four writers send one kind of write as fast as they can, each remembering what was
acknowledged, DynamoDB Local (on disk) is SIGKILLed at a random moment, started again on the same
data, and every acknowledged write is read back. It prints per kind how many acknowledged writes
were lost.

On DynamoDB Local 3.3.1 (2026-05-28) PutItem loses none; TransactWriteItems loses one now and then.
It answers a transaction once its SQLite ``COMMIT`` is queued, not once that has run (the jar's
``SQLiteDBAccess.commitTransaction`` enqueues the job and does not wait for it), so a kill in
between loses a transaction the client was told had succeeded. DynamoDB never does; this is why
the fault test cuts the platform off from DynamoDB Local and waits for its queues before killing
it (``tests/faults/test_faults.py``).

    .venv/bin/python bench/dynamodb_local_durability.py --rounds 6
"""

import argparse
import random
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from support.dynamodb import raw_dynamodb
from support.paths import LOGS

from tests.dynamodb_local import DynamoDBLocal

TABLE = "durability"
WRITERS = 4
CONFIG = Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5)


def _write(client, kind: str, key: str) -> None:
    item = {"k": {"S": key}}
    if kind == "PutItem":
        client.put_item(TableName=TABLE, Item=item)
    else:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item}},
                {"Put": {"TableName": TABLE, "Item": {"k": {"S": f"{key}-pair"}}}},
            ]
        )


def _round(server: DynamoDBLocal, kind: str, number: int) -> tuple[int, int]:
    """Writes until a SIGKILL, restarts the store, and counts (acknowledged, lost)."""
    acknowledged: list[str] = []
    killed = threading.Event()

    def writer(name: int) -> None:
        client = raw_dynamodb(server.endpoint, CONFIG)
        sequence = 0
        while not killed.is_set():
            key = f"{kind}-{number}-{name}-{sequence}"
            sequence += 1
            try:
                _write(client, kind, key)
            except (BotoCoreError, ClientError):
                return
            acknowledged.append(key)

    threads = [threading.Thread(target=writer, args=(name,)) for name in range(WRITERS)]
    for thread in threads:
        thread.start()
    time.sleep(2 + random.random())
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    killed.set()
    for thread in threads:
        thread.join()
    server.start()
    client = raw_dynamodb(server.endpoint, CONFIG)
    lost = sum(
        "Item" not in client.get_item(TableName=TABLE, Key={"k": {"S": key}}, ConsistentRead=True)
        for key in acknowledged
    )
    return len(acknowledged), lost


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=6, help="kills per kind of write")
    args = parser.parse_args()
    LOGS.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="dynamodb-durability-"))
    server = DynamoDBLocal(log=LOGS / "dynamodb-durability.log", data_dir=data_dir).start()
    try:
        raw_dynamodb(server.endpoint, CONFIG).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for kind in ("PutItem", "TransactWriteItems"):
            totals = [0, 0]
            for number in range(args.rounds):
                acknowledged, lost = _round(server, kind, number)
                totals[0] += acknowledged
                totals[1] += lost
                print(f"{kind} round {number + 1}: {acknowledged} acknowledged, {lost} lost", flush=True)
            print(f"{kind}: {totals[1]} of {totals[0]} acknowledged writes lost to SIGKILL", flush=True)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
