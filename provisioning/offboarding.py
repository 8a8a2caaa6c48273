"""Offboarding: stop the tenant's traffic, export every table, verify the export, then delete.

refuse_traffic (the 202 made the tenant ``offboarding``, which every web process refuses within
TENANT_ROUTE_CACHE_SECONDS; the step waits that out plus the longest an admitted write can
still take, OFFBOARDING_DRAIN_SECONDS, counted from the run's creation, committed with the
status change: after it every acknowledged write is in the table) -> export_tables (JSON lines
per table, DynamoDB's typed JSON, under OFFBOARDING_EXPORT_DIR/<slug>/<run id>/, then verified:
each file's line count must equal a fresh scan count and the count seen while exporting; a
manifest records them) -> destroy_resources (tables deleted with their deletion protection
lifted, through the engine) -> mark_offboarded (resources cleared). Nothing is deleted before
the export is verified; an export that disagrees with a fresh count is taken again after a
pause (OFFBOARDING_EXPORT_ATTEMPTS). Each step is idempotent.
"""

import hashlib
import json
import os
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from provisioning.dynamo_apply import describe_table_or_none
from provisioning.engines.base import program_config
from provisioning.engines.selection import provisioning_engine
from provisioning.errors import ExportMismatch
from provisioning.models import ProvisioningRun
from provisioning.table_specs import tenant_table_specs
from provisioning.workflow import Steps, run_create
from resale.binding import tenant_dynamodb_client
from tenants.actions import do_mark_tenant_offboarded
from tenants.models import Tenant


def export_dir(run: ProvisioningRun) -> Path:
    return Path(settings.OFFBOARDING_EXPORT_DIR) / run.tenant.slug / str(run.pk)


def tenant_table_names(tenant: Tenant) -> dict[str, str]:
    """Every table the tenant may have, by role: recorded outputs, and the program's names for a
    tenant whose onboarding failed before recording them."""
    names = {spec.role: spec.name for spec in tenant_table_specs(tenant.slug, tenant.tier)}
    return {**names, **tenant.resources.get("tables", {})}


def _scan_pages(client, name: str, **kwargs):
    return client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True, **kwargs)


def _export_table(client, name: str, path: Path) -> dict:
    """Writes one table as JSON lines, atomically (a killed export leaves no partial file)."""
    partial = path.with_suffix(".jsonl.partial")
    digest = hashlib.sha256()
    count = 0
    with partial.open("w", encoding="utf-8") as out:
        for page in _scan_pages(client, name):
            for item in page["Items"]:
                line = json.dumps(item, sort_keys=True, separators=(",", ":")) + "\n"
                out.write(line)
                digest.update(line.encode())
                count += 1
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
    return {"table": name, "file": str(path), "items": count, "sha256": digest.hexdigest()}


def _line_count(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for _ in lines)


def _verify_table_export(client, role: str, entry: dict) -> None:
    lines = _line_count(Path(entry["file"]))
    scanned = sum(page["Count"] for page in _scan_pages(client, entry["table"], Select="COUNT"))
    if not lines == scanned == entry["items"]:
        raise ExportMismatch(
            f"{role}: the export has {lines} lines, the scan while exporting saw {entry['items']} items, "
            f"the table now counts {scanned}"
        )
    entry["verified_items"] = scanned


def refuse_traffic(run: ProvisioningRun) -> None:
    """Waits until no web process admits the tenant's requests and admitted writes have ended."""
    drained_at = run.created_at + timedelta(seconds=settings.OFFBOARDING_DRAIN_SECONDS)
    remaining = (drained_at - timezone.now()).total_seconds()
    if remaining > 0:
        time.sleep(remaining)


def _export_and_verify(client, run: ProvisioningRun, directory: Path) -> dict:
    tables = {}
    for role, name in sorted(tenant_table_names(run.tenant).items()):
        if describe_table_or_none(client, name) is not None:
            tables[role] = _export_table(client, name, directory / f"{role}.jsonl")
    for role, entry in tables.items():
        _verify_table_export(client, role, entry)
    return tables


def export_tables(run: ProvisioningRun) -> None:
    """Exports each existing table, then checks the export against a fresh count of the table.

    Export and verification are one step: a failed verification is retried by exporting again.
    """
    client = tenant_dynamodb_client(run.tenant)
    directory = export_dir(run)
    directory.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, settings.OFFBOARDING_EXPORT_ATTEMPTS + 1):
        try:
            tables = _export_and_verify(client, run, directory)
            break
        except ExportMismatch:
            if attempt == settings.OFFBOARDING_EXPORT_ATTEMPTS:
                raise
            time.sleep(settings.OFFBOARDING_EXPORT_SETTLE_SECONDS)
    export = {"dir": str(directory), "tables": tables, "verified_at": timezone.now().isoformat()}
    (directory / "manifest.json").write_text(
        json.dumps({"tenant": run.tenant.slug, "run": run.pk, **export}, indent=2)
    )
    run.outputs = {**run.outputs, "export": export}


def destroy_resources(run: ProvisioningRun) -> None:
    tenant = run.tenant
    if tenant.cell is None:
        run.result = []  # never placed, so the program never ran: nothing exists to destroy
        return
    engine = provisioning_engine()
    run.engine = engine.name
    run.result = engine.destroy(
        program_config(tenant, tenant.cell, deletion_protection=False),
        table_names=sorted(tenant_table_names(tenant).values()),
    )


def mark_offboarded(run: ProvisioningRun) -> None:
    do_mark_tenant_offboarded(tenant=run.tenant, export=run.outputs.get("export", {}))


OFFBOARDING_STEPS: Steps = [
    ("refuse_traffic", refuse_traffic),
    ("export_tables", export_tables),
    ("destroy_resources", destroy_resources),
    ("mark_offboarded", mark_offboarded),
]


def offboarding_run_create(tenant: Tenant) -> ProvisioningRun:
    return run_create(tenant=tenant, kind=ProvisioningRun.Kind.OFFBOARD, steps=OFFBOARDING_STEPS)
