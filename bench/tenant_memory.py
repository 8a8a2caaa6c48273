"""The memory one process spends per bound tenant, beside PynamoDB's default of a client per class."""

import gc
import tracemalloc
from dataclasses import dataclass


@dataclass(frozen=True)
class TenantMemory:
    tenants: int
    shared_bytes: float
    """Per tenant bound through ``resale.binding`` (its tables on the one shared connection)."""
    naive_bytes: float
    """Per tenant with a PynamoDB model class of its own per table, each with its own client."""


def _table_names(slug: str) -> tuple[tuple[str, str], ...]:
    from resale.tables import TENANT_TABLE_MODELS

    return tuple((role, f"{slug}-{role}") for role in TENANT_TABLE_MODELS)


def memory_per_bound_tenant(dynamodb_endpoint: str, count: int = 1000) -> TenantMemory:
    """Bytes one process holds per bound tenant (6 tables, its own credentials) vs PynamoDB's default."""
    from resale.binding import TenantRef, tenant_models
    from resale.tables import TENANT_TABLE_MODELS

    # The first binding builds what every tenant shares (the connection pool, the signer's code).
    tenant_models(TenantRef(slug="mem-warm", table_names=_table_names("mem-warm")))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(count):
        models = tenant_models(TenantRef(slug=f"mem-{i}", table_names=_table_names(f"mem-{i}")))
        for role in TENANT_TABLE_MODELS:
            getattr(models, role)._get_connection()
    gc.collect()
    after = tracemalloc.take_snapshot()
    shared = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / count

    naive_count = 5
    before = tracemalloc.take_snapshot()
    for i in range(naive_count):
        for role, model in TENANT_TABLE_MODELS.items():
            meta = type(
                "Meta",
                (model.Meta,),
                {
                    "table_name": f"naive-{i}-{role}",
                    "host": dynamodb_endpoint,
                    "region": "us-east-1",
                    "aws_access_key_id": "local",
                    "aws_secret_access_key": "local",
                },
            )
            naive = type(f"Naive{i}{role}", (model,), {"Meta": meta, "__module__": __name__})
            naive._get_connection().connection.client  # noqa: B018 - what a first call builds
    gc.collect()
    after = tracemalloc.take_snapshot()
    naive = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / naive_count
    tracemalloc.stop()
    return TenantMemory(tenants=count, shared_bytes=shared, naive_bytes=naive)
