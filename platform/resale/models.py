"""The data plane's own PostgreSQL state: stream positions and leases, the search index, webhooks,
erasures in progress.

Tenant data lives in the tenant's DynamoDB tables (``resale.tables``); what is here is derived
from their streams (search documents, webhook deliveries) or steers the consumers (shards,
leases, checkpoints), so it can always be rebuilt from the streams and the tables.
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models


class StreamShard(models.Model):
    """One shard of one tenant table's stream: its checkpoint and the lease of the consumer reading it.

    ``checkpoint`` is the sequence number of the last record whose effects are durable; a reader
    resumes AFTER it. ``finished`` is set once a closed shard has been read to its end, which is
    what lets its children start (a child is read only after its parent is finished).
    """

    tenant_slug = models.CharField(max_length=40, db_index=True)
    table_role = models.CharField(max_length=32)
    stream_arn = models.CharField(max_length=512)
    shard_id = models.CharField(max_length=128)
    parent_shard_id = models.CharField(max_length=128, blank=True)
    checkpoint = models.CharField(max_length=64, blank=True)
    finished = models.BooleanField(default=False)
    lease_owner = models.CharField(max_length=128, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lag_seconds = models.FloatField(default=0)
    records_applied = models.BigIntegerField(default=0)
    discovered_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream_arn", "shard_id"], name="one_row_per_stream_shard")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_slug}/{self.table_role}/{self.shard_id}"


class StreamConsumer(models.Model):
    """A live consumer process (heartbeat), so that consumers can share the shards fairly."""

    name = models.CharField(max_length=128, unique=True)
    last_seen_at = models.DateTimeField()
    started_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


def _search_vector() -> SearchVector:
    return (
        SearchVector("title", weight="A", config="english")
        + SearchVector("category", weight="B", config="english")
        + SearchVector("description", weight="C", config="english")
    )


class SearchDocument(models.Model):
    """A listing as the search index holds it, one row per (tenant, listing), kept in step by the stream.

    A document is never deleted on withdraw or sale: its status changes, and ``version`` (the
    listing's own optimistic-lock version) makes a replayed or late stream record unable to
    bring back an older state.
    """

    tenant_slug = models.CharField(max_length=40)
    listing_id = models.CharField(max_length=64)
    title = models.TextField()
    description = models.TextField(blank=True)
    category = models.CharField(max_length=100)
    condition = models.CharField(max_length=50, blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    seller_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16)
    version = models.BigIntegerField(default=0)
    listing_created_at = models.CharField(max_length=40, blank=True)
    listing_updated_at = models.CharField(max_length=40, blank=True)
    indexed_at = models.DateTimeField(auto_now=True)
    search_vector = models.GeneratedField(
        expression=_search_vector(), output_field=SearchVectorField(), db_persist=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant_slug", "listing_id"], name="one_document_per_listing")
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="search_document_vector_gin"),
            models.Index(
                fields=["tenant_slug", "status", "category", "price"], name="search_document_filter"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_slug}/{self.listing_id}"


class WebhookSubscription(models.Model):
    """A tenant's URL for some event types. The secret signs every delivery; it is shown once."""

    id = models.CharField(primary_key=True, max_length=32)
    tenant_slug = models.CharField(max_length=40, db_index=True)
    url = models.URLField(max_length=2000)
    events = ArrayField(models.CharField(max_length=64))
    secret = models.CharField(max_length=100)
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"{self.tenant_slug} webhook {self.id} -> {self.url}"


class WebhookDelivery(models.Model):
    """One event to one subscription, with its attempts. Unique per (subscription, event): idempotent.

    ``payload`` is the body sent, ``{"type", "timestamp", "data"}``. An attempt in flight holds
    the delivery through ``claim_token`` until ``claimed_until`` (no row lock across the POST).
    ``last_error`` is in the platform's own words: a status code and a length, never the body.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        DEAD = "dead"

    id = models.CharField(primary_key=True, max_length=32)
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    tenant_slug = models.CharField(max_length=40, db_index=True)
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="one_delivery_per_event")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} -> {self.subscription_id} ({self.status})"


class HistoryExport(models.Model):
    """One export of a tenant's history for the warehouse: events ``first_seq..last_seq`` in one file.

    Each run exports the events after the previous run's ``last_seq``, so nightly runs hand the
    warehouse each event once, and a file can be re-checked against its ``sha256``.
    """

    tenant_slug = models.CharField(max_length=40, db_index=True)
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    events = models.BigIntegerField()
    path = models.CharField(max_length=1000)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant_slug", "-last_seq"]

    def __str__(self) -> str:
        return f"{self.tenant_slug} history {self.first_seq}..{self.last_seq}"


class ErasureRequest(models.Model):
    """A buyer's erasure, recorded before its steps run (``resale.privacy.services``) and pending
    until every step is done, so that an erasure interrupted midway is completed by the request
    sent again or by the sweep. The buyer's id is kept only while the erasure is pending: once
    complete, the record names the buyer by ``subject_digest`` alone, as the history's tombstone
    does."""

    tenant_slug = models.CharField(max_length=40)
    subject_digest = models.CharField(max_length=64)
    buyer_id = models.CharField(max_length=128, blank=True)
    requested_by = models.CharField(max_length=200)
    erasure_id = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    attempted_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant_slug", "subject_digest"], name="one_erasure_per_subject")
        ]
        indexes = [
            models.Index(
                fields=["attempted_at"], condition=models.Q(completed_at=None), name="erasure_request_pending"
            )
        ]

    def __str__(self) -> str:
        state = "complete" if self.completed_at else "pending"
        return f"{self.tenant_slug} erasure {self.subject_digest[:12]} ({state})"
