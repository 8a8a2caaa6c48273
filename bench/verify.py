"""The standalone verifier's speed on an export of 100,000 events (``--events``), as an auditor runs it.

Builds an export the way ``history_evidence_bundle`` lays it out (events.jsonl of chain version 2
events shaped like the consumer's: a listing's image, redacted fields, hashes over RFC 8785; a
signed checkpoint every ``--checkpoint-every`` events; jwks.json; verify_history.py), then times
``python -m verify_history`` in a fresh interpreter, and once more on a copy with one event
altered near the end (it must name it). No DynamoDB, no Django: only the verifier is measured.

    .venv/bin/python bench/verify.py --events 100000
"""

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import support.paths  # noqa: F401 - puts the project on the import path
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import OKPKey

from resale.history import verify_history


def _event(seq: int, prev_hash: str) -> dict:
    listing = uuid.uuid4().hex
    image = {
        "id": listing,
        "seller_id": f"seller-{seq % 500}",
        "title": f"Vintage camera {seq}",
        "description": "A film camera in good condition, with its original leather case and strap.",
        "category": "cameras",
        "condition": "good",
        "price": f"{seq % 900 + 10}.00",
        "currency": "EUR",
        "status": "active",
        "version": 1,
        "attributes": {"brand": "Pentax", "lens": "50mm"},
        "created_at": "2026-12-02T10:00:00.000000+00:00",
        "updated_at": "2026-12-02T10:00:00.000000+00:00",
        "actor": "api-key:k1",
    }
    event = {
        "seq": seq,
        "chain_version": verify_history.CHAIN_VERSION,
        "event": "INSERT",
        "entity_type": "listing",
        "entity_id": listing,
        "old": None,
        "new": image,
        "actor": "api-key:k1",
        "at": "2026-12-02T10:00:00.000000Z",
        "source": f"listings#{uuid.uuid4()}",
        "stream_sequence": f"{seq:021d}",
        "recorded_at": "2026-12-02T10:00:00.500000Z",
        "prev_hash": prev_hash,
    }
    event["hash"] = verify_history.event_hash(event)
    return event


def build(folder: Path, events: int, every: int) -> None:
    key = OKPKey.generate_key("Ed25519", parameters={"kid": "bench"}, private=True)
    prev = verify_history.GENESIS_HASH
    with (folder / "events.jsonl").open("w") as out, (folder / "checkpoints.jsonl").open("w") as marks:
        for seq in range(1, events + 1):
            event = _event(seq, prev)
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
            prev = event["hash"]
            if seq % every == 0 or seq == events:
                payload = json.dumps({"tenant": "bench", "seq": seq, "hash": prev, "iat": int(time.time())})
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", SecurityWarning)
                    token = jws.serialize_compact(
                        {"alg": "EdDSA", "kid": "bench"}, payload, key, algorithms=["EdDSA"]
                    )
                marks.write(json.dumps({"seq": seq, "hash": prev, "signed_at": "", "jws": token}) + "\n")
    (folder / "jwks.json").write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    shutil.copy(verify_history.__file__, folder / "verify_history.py")


def timed_run(folder: Path) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds (user + system of the verifier's process) and its summary."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys, runpy; sys.path.insert(0, '.'); sys.argv[0] = 'verify_history'; "
            "runpy.run_module('verify_history', run_name='__main__')",
            ".",
        ],
        cwd=folder,
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        build(folder, args.events, args.checkpoint_every)
        size = (folder / "events.jsonl").stat().st_size
        print(
            f"export: {args.events} events, {size / 1e6:.1f} MB, "
            f"built in {time.perf_counter() - started:.1f} s"
        )
        seconds, cpu, result = timed_run(folder)
        assert result["ok"] and result["events"] == args.events, result
        print(
            f"verify ok: {seconds:.2f} s wall, {cpu:.2f} s CPU, "
            f"{args.events / cpu:,.0f} events per CPU second, {result['checkpoints']} checkpoints verified"
        )
        lines = (folder / "events.jsonl").read_text().splitlines()
        altered = json.loads(lines[-10])
        altered["new"]["price"] = "1.00"
        lines[-10] = json.dumps(altered)
        (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
        seconds, cpu, result = timed_run(folder)
        assert not result["ok"] and result["first_bad_seq"] == args.events - 9, result
        print(
            f"verify tampered: {seconds:.2f} s wall, {cpu:.2f} s CPU, "
            f"first_bad_seq={result['first_bad_seq']} ({result['problem']})"
        )


if __name__ == "__main__":
    main()
