"""The warehouse export of a tenant's history: gzip JSON lines, one event per line, oldest first.

Incremental by default: a run exports the events after the last exported seq and records the
file (``HistoryExport``), so a nightly schedule hands each event over once. The file is written
to a temporary name, fsynced and renamed, so a crashed run leaves no half file behind, and the
events are streamed from DynamoDB page by page (no tenant's history is held in memory).
"""

import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from resale.binding import tenant_models
from resale.history.selectors import event_as_dict, history_iter
from resale.models import HistoryExport
from tenants.models import Tenant


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


def history_export(*, tenant: Tenant, full: bool = False, directory: Path | None = None) -> ExportResult:
    """Exports the tenant's new events (all of them with ``full``) to one .jsonl.gz file."""
    models = tenant_models(tenant)
    previous = HistoryExport.objects.filter(tenant_slug=tenant.slug).order_by("-last_seq").first()
    after_seq = 0 if full or previous is None else previous.last_seq
    directory = Path(directory or settings.HISTORY_EXPORT_DIR) / tenant.slug
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    final = directory / f"history-{stamp}-after-{after_seq}.jsonl.gz"
    partial = final.with_suffix(".partial")
    count, first_seq, last_seq = 0, None, after_seq
    with partial.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as compressed:
        for item in history_iter(tenant_models=models, after_seq=after_seq):
            event = {"tenant": tenant.slug, **event_as_dict(item)}
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
