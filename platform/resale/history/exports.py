"""The warehouse export of a tenant's history: gzip JSON lines, one event per line, oldest first.

Each line is the event exactly as ``GET /api/v1/audit/events`` returns it, nothing added: its
``hash`` covers every member but itself (API.md, "The history as evidence"), so a member added
here would fail the standalone verifier (``verify_history``, which reads these files) and any
verifier an auditor writes from the contract. The tenant is named by the folder and the file.

Incremental by default: a run exports the events after the last exported seq and records the
file (``HistoryExport``), so a nightly schedule hands each event over once. The file is written
to a temporary name, fsynced and renamed, so a crashed run leaves no half file behind, and the
events are streamed from DynamoDB page by page (no tenant's history is held in memory).
"""

import gzip
import hashlib
import json
import os
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from resale.binding import TenantLike, TenantModels, tenant_models
from resale.clock import file_stamp
from resale.history import verify_history
from resale.history.checkpoints import checkpoints_iter, public_jwks
from resale.history.selectors import event_as_dict, history_iter
from resale.models import HistoryExport


@dataclass(frozen=True)
class ExportResult:
    tenant_slug: str
    events: int
    path: Path | None
    record: HistoryExport | None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def history_export(*, tenant: TenantLike, full: bool = False, directory: Path | None = None) -> ExportResult:
    """Exports the tenant's new events (all of them with ``full``) to one .jsonl.gz file."""
    models = tenant_models(tenant)
    previous = HistoryExport.objects.filter(tenant_slug=tenant.slug).order_by("-last_seq").first()
    after_seq = 0 if full or previous is None else previous.last_seq
    directory = Path(directory or settings.HISTORY_EXPORT_DIR) / tenant.slug
    directory.mkdir(parents=True, exist_ok=True)
    stamp = file_stamp()
    final = directory / f"history-{tenant.slug}-{stamp}-after-{after_seq}.jsonl.gz"
    partial = final.with_suffix(".partial")
    count, first_seq, last_seq = 0, None, after_seq
    with partial.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as compressed:
        for item in history_iter(tenant_models=models, after_seq=after_seq):
            event = event_as_dict(item)
            compressed.write(json.dumps(event, sort_keys=True, separators=(",", ":")).encode() + b"\n")
            count += 1
            first_seq = first_seq or event["seq"]
            last_seq = event["seq"]
        compressed.close()
        raw.flush()
        os.fsync(raw.fileno())
    if count == 0:
        partial.unlink()
        return ExportResult(tenant_slug=tenant.slug, events=0, path=None, record=None)
    partial.rename(final)
    record = HistoryExport.objects.create(
        tenant_slug=tenant.slug,
        first_seq=first_seq,
        last_seq=last_seq,
        events=count,
        path=str(final),
        sha256=_sha256(final),
    )
    return ExportResult(tenant_slug=tenant.slug, events=count, path=final, record=record)


def history_evidence_bundle(*, tenant_slug: str, models: TenantModels, destination: BinaryIO) -> int:
    """Writes the tenant's evidence as a zip an auditor checks with their own tools: every event
    as the audit API returns it (``events.jsonl``), the signed checkpoints, the JWKS, and the
    standalone verifier (``verify_history.py``); the number of events."""
    count = 0
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        with bundle.open("events.jsonl", "w") as events:
            for item in history_iter(tenant_models=models):
                events.write(json.dumps(event_as_dict(item), ensure_ascii=False).encode("utf-8") + b"\n")
                count += 1
        with bundle.open("checkpoints.jsonl", "w") as checkpoints:
            for checkpoint in checkpoints_iter(tenant_models=models):
                checkpoints.write(json.dumps(asdict(checkpoint)).encode() + b"\n")
        bundle.writestr("jwks.json", json.dumps(public_jwks(), indent=2))
        bundle.writestr("verify_history.py", Path(verify_history.__file__).read_text())
        bundle.writestr("README.txt", EVIDENCE_README.format(tenant=tenant_slug))
    return count


EVIDENCE_README = """History of tenant {tenant}: evidence to check without trusting the platform.

  pip install rfc8785 joserfc
  python -m verify_history .            (in the unpacked folder; or: python verify_history.py THIS.zip)
  python -m verify_history . --jwks jwks-you-fetched-from-/.well-known/jwks.json

events.jsonl       every event, oldest first, exactly as GET /api/v1/audit/events returns it
checkpoints.jsonl  the signed chain heads (compact JWS, EdDSA), as GET /api/v1/audit/checkpoints
jwks.json          the public keys of the checkpoints, as GET /.well-known/jwks.json
verify_history.py  the verifier: standard library, rfc8785 and joserfc only; read it first
"""
