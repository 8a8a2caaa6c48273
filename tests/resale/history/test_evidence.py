"""The history as evidence: hashes an outsider recomputes, signed checkpoints, a standalone verifier."""

import base64
import configparser
import hashlib
import json
import logging
import os
import subprocess
import sys
import zipfile
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import pytest
import rfc8785
from django.conf import settings
from django.core.cache import cache
from joserfc.jwk import KeySet, OKPKey
from rest_framework.test import APIClient

from control_plane.celery import app
from resale.binding import tenant_dynamodb_client
from resale.history import checkpoints
from resale.history.exports import history_evidence_bundle
from resale.history.services import EVENTS_CHAIN, HEAD_CHAIN
from resale.history.tasks import history_checkpoints_sweep
from resale.history.verification import history_verify
from resale.history.verify_history import checkpoint_claims
from tests.resale.factories import api_client_for, drain, in_process_consumer, listing_create, models_of

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[3]
OURS = ("resale", "httpkit", "tenants", "control_plane", "provisioning", "django", "boto3", "pynamodb")


def _key_set(*kids: str) -> str:
    keys = [OKPKey.generate_key("Ed25519", parameters={"kid": kid}, private=True) for kid in kids]
    return json.dumps({"keys": [key.as_dict(private=True) for key in keys]})


@pytest.fixture
def signing(settings):
    def configure(keys: str, active: str) -> None:
        settings.AUDIT_SIGNING_KEYS, settings.AUDIT_SIGNING_KEY_ID = keys, active
        checkpoints.signing_keys.cache_clear()

    yield configure
    checkpoints.signing_keys.cache_clear()


@contextmanager
def _dynamodb_calls(tenants):
    """The DynamoDB operations each tenant's client sends meanwhile, by slug."""
    calls = defaultdict(list)
    hooks = []
    for tenant in tenants:

        def record(model, _slug=tenant.slug, **_):
            calls[_slug].append(model.name)

        events = tenant_dynamodb_client(tenant).meta.events
        events.register("before-call.dynamodb", record)
        hooks.append((events, record))
    try:
        yield calls
    finally:
        for events, record in hooks:
            events.unregister("before-call.dynamodb", record)


def _events(client) -> list[dict]:
    return client.get("/api/v1/audit/events", {"limit": 100}).json()["items"]


def _bundle(tenant, path) -> None:
    with path.open("wb") as handle:
        history_evidence_bundle(tenant_slug=tenant.slug, models=models_of(tenant), destination=handle)


def _run_verifier(folder, *args) -> tuple[int, dict]:
    """The shipped verifier, alone: isolated mode, no PYTHONPATH, and any import of ours refused."""
    guard = (
        "import sys, runpy\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {OURS!r}: raise ImportError('refused: ' + name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "sys.path.insert(0, '.')\n"
        "sys.argv = ['verify_history', *sys.argv[1:]]\n"
        "runpy.run_module('verify_history', run_name='__main__')\n"
    )
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, "-I", "-c", guard, ".", *args], cwd=folder, env=env, capture_output=True, timeout=60
    )
    assert done.stderr == b"", done.stderr.decode()
    return done.returncode, json.loads(done.stdout)


def test_every_event_hash_is_sha256_of_rfc8785_of_the_event_as_the_api_returns_it(provisioned_tenant):
    tenant = provisioned_tenant()
    models = models_of(tenant)
    listing_create(models, attributes={"lens": "50mm", "weight_grams": 2**60})
    listing_create(models, title="Caméra «argentique» 📷")
    drain(in_process_consumer())
    events = _events(api_client_for(tenant, "audit"))
    assert [event["seq"] for event in events] == [1, 2]
    previous = "0" * 64
    for event in events:
        body = {name: value for name, value in event.items() if name != "hash"}
        assert event["hash"] == hashlib.sha256(rfc8785.dumps(body)).hexdigest()
        assert event["prev_hash"] == previous and event["chain_version"] == 2
        previous = event["hash"]
    assert events[0]["new"]["attributes"]["weight_grams"] == str(2**60)


def _legacy_write(models, count: int) -> None:
    """Events as the chain's first format wrote them (no version; hash over sorted compact JSON)."""
    dumps = lambda value: json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)  # noqa: E731
    fields = ("seq", "event", "entity_type", "entity_id", "old", "new", "actor", "at", "source")
    fields += ("stream_sequence", "recorded_at", "prev_hash")
    prev = "0" * 64
    for seq in range(1, count + 1):
        content = {
            "seq": seq,
            "event": "INSERT",
            "entity_type": "listing",
            "entity_id": f"old-{seq}",
            "old": None,
            "new": dumps({"id": f"old-{seq}", "title": "Épée", "price": "3.00"}),
            "actor": "api-key:old",
            "at": f"2025-01-0{seq}T00:00:00.000000Z",
            "source": f"listings#old-{seq}",
            "stream_sequence": f"{seq}00",
            "recorded_at": f"2025-01-0{seq}T00:00:01.000000Z",
            "prev_hash": prev,
        }
        content["hash"] = hashlib.sha256(
            dumps({name: content.get(name) for name in fields}).encode()
        ).hexdigest()
        models.history(EVENTS_CHAIN, entity_key=f"listing#old-{seq}", **content).save()
        prev = content["hash"]
    tenant_dynamodb_client(models.tenant).put_item(
        TableName=models.history.Meta.table_name,
        Item={
            "chain": {"S": HEAD_CHAIN},
            "seq": {"N": "0"},
            "head_seq": {"N": str(count)},
            "head_hash": {"S": prev},
        },
    )


def test_a_history_written_in_the_old_format_keeps_verifying_after_new_events(
    provisioned_tenant, signing, tmp_path
):
    signing(_key_set("k1"), "k1")
    tenant = provisioned_tenant()
    models = models_of(tenant)
    _legacy_write(models, 3)
    listing_create(models)
    listing_create(models)
    drain(in_process_consumer())
    events = _events(api_client_for(tenant, "audit"))
    assert [(e["seq"], e["chain_version"]) for e in events] == [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2)]
    assert events[3]["prev_hash"] == events[2]["hash"]
    assert history_verify(tenant_models=models).ok
    _bundle(tenant, tmp_path / "evidence.zip")
    zipfile.ZipFile(tmp_path / "evidence.zip").extractall(tmp_path / "export")
    code, result = _run_verifier(tmp_path / "export")
    assert (code, result["ok"], result["events"]) == (0, True, 5)


def test_checkpoints_are_signed_kept_listed_and_survive_a_key_rotation(provisioned_tenant, signing):
    first_keys = _key_set("2026-a")
    signing(first_keys, "2026-a")
    tenant = provisioned_tenant()
    models = models_of(tenant)
    consumer = in_process_consumer()
    listing_create(models)
    drain(consumer)
    history_checkpoints_sweep()
    history_checkpoints_sweep()
    rotated = json.loads(first_keys)["keys"] + json.loads(_key_set("2026-b"))["keys"]
    signing(json.dumps({"keys": rotated}), "2026-b")
    listing_create(models)
    drain(consumer)
    history_checkpoints_sweep()

    auditor = api_client_for(tenant, "audit")
    page = auditor.get("/api/v1/audit/checkpoints").json()
    assert [item["seq"] for item in page["items"]] == [1, 2] and page["next_cursor"] is None
    jwks = APIClient().get("/.well-known/jwks.json").json()
    assert {key["kid"] for key in jwks["keys"]} == {"2026-a", "2026-b"}
    assert all("d" not in key for key in jwks["keys"])
    events = _events(auditor)
    for item, kid in zip(page["items"], ["2026-a", "2026-b"], strict=True):
        claims = checkpoint_claims(item["jws"], KeySet.import_key_set(jwks))
        assert claims["tenant"] == tenant.slug and claims["hash"] == events[item["seq"] - 1]["hash"]
        assert json.loads(_header(item["jws"]))["kid"] == kid
    first = auditor.get("/api/v1/audit/checkpoints", {"limit": 1}).json()
    assert len(first["items"]) == 1 and first["next_cursor"]


def _header(token: str) -> bytes:
    header = token.split(".")[0]
    return base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))


def test_the_standalone_verifier_checks_an_export_and_names_the_first_tampered_event(
    provisioned_tenant, signing, tmp_path
):
    signing(_key_set("k1"), "k1")
    tenant = provisioned_tenant()
    models = models_of(tenant)
    for _ in range(5):
        listing_create(models)
    drain(in_process_consumer())
    history_checkpoints_sweep()
    _bundle(tenant, tmp_path / "evidence.zip")
    export = tmp_path / "export"
    zipfile.ZipFile(tmp_path / "evidence.zip").extractall(export)
    code, result = _run_verifier(export)
    assert (code, result["ok"], result["events"], result["checkpoints"]) == (0, True, 5, 1)

    lines = (export / "events.jsonl").read_text().splitlines()
    altered = json.loads(lines[2])
    altered["actor"] = "api-key:innocent"
    (export / "events.jsonl").write_text("\n".join([*lines[:2], json.dumps(altered), *lines[3:]]) + "\n")
    code, result = _run_verifier(export)
    assert (code, result["ok"], result["first_bad_seq"]) == (1, False, 3)

    (export / "events.jsonl").write_text("\n".join(lines[:4]) + "\n")
    code, result = _run_verifier(export)
    assert (code, result["ok"], result["first_bad_seq"]) == (1, False, 5)

    (export / "events.jsonl").write_text("\n".join(lines) + "\n")
    (export / "other-jwks.json").write_text(json.dumps({"keys": [json.loads(_key_set("k1"))["keys"][0]]}))
    code, result = _run_verifier(export, "--jwks", "other-jwks.json")
    assert (code, result["ok"]) == (1, False) and "signature" in result["problem"]


def test_make_run_signs_checkpoints_beat_schedules_the_sweep_and_a_worker_consumes_its_queue():
    app.loader.import_default_modules()
    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule[history_checkpoints_sweep.name]["schedule"] == settings.AUDIT_CHECKPOINT_SECONDS
    queue = app.amqp.router.route({}, history_checkpoints_sweep.name, (), {})["queue"].name
    supervised = configparser.ConfigParser(interpolation=None)
    supervised.read(ROOT / "scripts" / "supervisord.conf")
    commands = [supervised[name]["command"] for name in supervised.sections() if name.startswith("program:")]
    assert any(" beat " in command for command in commands)
    assert any(" worker " in command and f"-Q {queue} " in command for command in commands)


def _verified_export(tenant, folder) -> dict:
    folder.mkdir()
    _bundle(tenant, folder / "evidence.zip")
    zipfile.ZipFile(folder / "evidence.zip").extractall(folder / "export")
    code, result = _run_verifier(folder / "export", "--tenant", tenant.slug)
    assert code == 0, result
    return result


def test_the_beat_sweep_signs_each_grown_history_once_and_reads_only_the_head_of_an_unchanged_one(
    provisioned_tenant, signing, tmp_path
):
    signing(_key_set("k1"), "k1")
    tenants = [provisioned_tenant() for _ in range(4)]
    for count, tenant in enumerate(tenants[:3], start=1):
        for _ in range(count):
            listing_create(models_of(tenant))
    consumer = in_process_consumer()
    drain(consumer)
    assert history_checkpoints_sweep() == {"signed": 3, "unchanged": 1, "failed": 0}

    with _dynamodb_calls(tenants) as calls:
        assert history_checkpoints_sweep() == {"signed": 0, "unchanged": 4, "failed": 0}
    assert calls == {tenant.slug: ["GetItem"] for tenant in tenants}

    listing_create(models_of(tenants[0]))
    drain(consumer)
    # A cold cache costs one read of the latest checkpoint, and signs nothing again.
    cache.delete(checkpoints._signed_hash_key(tenants[1].slug))
    with _dynamodb_calls(tenants[1:2]) as calls:
        assert history_checkpoints_sweep() == {"signed": 1, "unchanged": 3, "failed": 0}
    assert calls == {tenants[1].slug: ["GetItem", "Query"]}

    for tenant, signed in zip(tenants, [[1, 2], [2], [3], []], strict=True):
        assert [c.seq for c in checkpoints.checkpoints_iter(tenant_models=models_of(tenant))] == signed
    for tenant, signed in zip(tenants[:3], [[1, 2], [2], [3]], strict=True):
        result = _verified_export(tenant, tmp_path / tenant.slug)
        assert (result["ok"], result["events"], result["checkpoints"]) == (True, max(signed), len(signed))


def test_a_tenant_whose_tables_fail_is_logged_and_counted_and_the_sweep_signs_the_others(
    provisioned_tenant, unique_slug, signing, caplog
):
    signing(_key_set("k1"), "k1")
    broken = provisioned_tenant(unique_slug("a"))  # first by slug: the sweep meets it first
    others = [provisioned_tenant(unique_slug("b")) for _ in range(2)]
    for tenant in (broken, *others):
        listing_create(models_of(tenant))
    drain(in_process_consumer())
    tables = {**broken.resources["tables"], "history": f"{broken.slug}-no-such-table"}
    broken.resources = {**broken.resources, "tables": tables}
    broken.save(update_fields=["resources"])

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="resale.history.checkpoints"):
        assert history_checkpoints_sweep() == {"signed": 2, "unchanged": 0, "failed": 1}
    failures = [record for record in caplog.records if record.name == "resale.history.checkpoints"]
    assert [(record.levelno, record.tenant) for record in failures] == [(logging.ERROR, broken.slug)]
    assert [checkpoints.checkpoint_latest(tenant_models=models_of(t)).seq for t in others] == [1, 1]
