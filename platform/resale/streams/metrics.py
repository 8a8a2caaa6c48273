"""The consumer's Prometheus series (served by the consumer process on ``STREAMS_METRICS_PORT``)."""

from prometheus_client import Counter, Gauge

STREAM_LAG = Gauge(
    "resale_stream_lag_seconds",
    "Seconds between now and the newest stream record this consumer applied (0 when caught up)",
    ["tenant"],
)
STREAM_RECORDS = Counter(
    "resale_stream_records_total", "Stream records applied, by tenant and table role", ["tenant", "role"]
)
STREAM_DUPLICATES = Counter(
    "resale_stream_duplicate_records_total",
    "Stream records seen again (after a restart or a lease takeover) and skipped",
    ["tenant", "role"],
)
SHARDS_OWNED = Gauge("resale_stream_shards_owned", "Shards whose lease this consumer holds")
