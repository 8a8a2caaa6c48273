"""Settings for the whole platform, read from the environment in this one place.

Local defaults are safe for a laptop; ``DJANGO_ENV=production`` switches on the
settings under which ``manage.py check --deploy`` reports nothing. Grouped by plane, lowest layer
first, so a group reads only settings defined before it: the Django project, the shared
infrastructure, the data plane, provisioning, the control plane, then production's overrides.
"""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


PRODUCTION = env("DJANGO_ENV", "local") == "production"


# ==================================================================================================
# The Django project: apps, middleware, templates, sessions, static files, DRF, logging
# ==================================================================================================

SECRET_KEY = env("DJANGO_SECRET_KEY", "local-dev-only-" + "x" * 50)
if PRODUCTION and SECRET_KEY.startswith("local-dev-only-"):
    raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_ENV=production")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in env("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "axes",
    "drf_spectacular",
    "django_prometheus",
    "tenants",
    "provisioning",
    "resale",
    "control_plane",
    "control_plane.console",
]

MIDDLEWARE = [
    "httpkit.request_context.RequestContextMiddleware",
    "httpkit.request_metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "httpkit.browser_middleware.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "httpkit.browser_middleware.BrowserAuthenticationMiddleware",
    "httpkit.browser_middleware.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "httpkit.usage.TenantUsageMiddleware",
    "axes.middleware.AxesMiddleware",
    "control_plane.signin.SigninLockMiddleware",
]

# Paths never served to a browser session (API key or anonymous): Django's session, user and
# message middlewares step aside there (httpkit.browser_middleware).
SESSIONLESS_PATH_PREFIXES = ("/api/v1/", "/r/", "/media/", "/media-upload/")

ROOT_URLCONF = "control_plane.urls"
WSGI_APPLICATION = "control_plane.wsgi.application"
ASGI_APPLICATION = "control_plane.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/console/login/"
LOGIN_REDIRECT_URL = "/console/"
LOGOUT_REDIRECT_URL = "/console/login/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE", str(8 * 3600)))
CSRF_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / ".local" / "media")))
MEDIA_URL = "media/"

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "noreply@resale.local")

DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "EXCEPTION_HANDLER": "httpkit.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "httpkit.openapi_request_rules.RequestRulesSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Resale platform API",
    "DESCRIPTION": "The control-plane API for platform staff and the tenant API for storefronts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # A PATCH body states what its serializer requires (a tier change needs its tier), not
    # drf-spectacular's all-optional copy: the views read PATCH bodies without partial=True.
    "COMPONENT_SPLIT_PATCH": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "resale.api.schema.add_public_paths",
        "httpkit.openapi_errors.add_problem_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "httpkit.request_context.RequestContextLogFilter"},
        "quota_refusals": {"()": "httpkit.log_filters.QuotaRefusalFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(tenant)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_context"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "pynamodb": {"level": "WARNING"},
        "django.request": {"filters": ["quota_refusals"]},
    },
}


# ==================================================================================================
# Shared infrastructure: PostgreSQL (the registry), Redis (cache, broker), Celery
# ==================================================================================================

POSTGRES_DB = env("POSTGRES_DB", "resale")
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": POSTGRES_DB,
        "USER": env("POSTGRES_USER", "postgres"),
        "PASSWORD": env("POSTGRES_PASSWORD", ""),
        "HOST": env("POSTGRES_HOST", "127.0.0.1"),
        "PORT": env("POSTGRES_PORT", "5432"),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 3},
        "TEST": {"NAME": env("POSTGRES_TEST_DB", f"test_{POSTGRES_DB}")},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }
}

# Celery (Redis broker). Tasks survive a killed worker: late ack plus reject on worker lost. No task
# result is kept (nothing reads one): with a result backend, the first task a web process sends
# subscribes to its result, and against a stalled Redis that subscription retried until Redis came
# back, holding the request (an order) for the whole stall.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
# A message taken by a worker whose main process died (SIGKILL, out of memory) goes back to its queue
# once unacknowledged for the visibility timeout; every worker looks for such messages each restore
# interval. Keep the timeout above the longest task (the workflows are idempotent, so a redelivery
# while it still runs costs time, not correctness) and above the longest countdown (a countdown past it
# is delivered again). Socket timeouts bound what a stalled Redis costs a publish, and so a request;
# workers drop them (control_plane.celery: an acknowledgement they cut short stopped the worker).
CELERY_VISIBILITY_TIMEOUT_SECONDS = int(env("CELERY_VISIBILITY_TIMEOUT_SECONDS", "45"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    "unacked_restore_interval": int(env("CELERY_UNACKED_RESTORE_INTERVAL_SECONDS", "5")),
    "unacked_restore_throttle": 1,
    "socket_timeout": float(env("CELERY_BROKER_SOCKET_TIMEOUT_SECONDS", "1")),
    "socket_connect_timeout": float(env("CELERY_BROKER_SOCKET_TIMEOUT_SECONDS", "1")),
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.2,
}
# Task modules that autodiscovery (``<app>.tasks``) does not reach: domain packages of the data plane.
CELERY_IMPORTS = ("resale.webhooks.tasks", "resale.history.tasks", "resale.privacy.tasks")
# One queue per kind of work, each with workers of its own (`-Q provisioning`, `-Q orders`,
# `-Q webhooks`): thousands of webhook deliveries waiting on dead receivers cannot hold the slots
# that charge orders or onboard tenants. Every task of the project is routed here, nowhere else.
CELERY_TASK_ROUTES = {
    "provisioning.tasks.*": {"queue": "provisioning"},
    "resale.orders.tasks.*": {"queue": "orders"},
    "resale.webhooks.tasks.*": {"queue": "webhooks"},
    # The history's verification jobs and checkpoint sweep: background work of the stream effects,
    # beside the webhooks.
    "resale.history.tasks.*": {"queue": "webhooks"},
    # The erasure sweep: a few DynamoDB and PostgreSQL writes per pending erasure, beside them.
    "resale.privacy.tasks.*": {"queue": "webhooks"},
}
CELERY_BEAT_SCHEDULE = {
    "stalled-orders-sweep": {
        "task": "resale.orders.tasks.stalled_orders_sweep",
        "schedule": float(env("ORDER_STALLED_SWEEP_SECONDS", "60")),
    },
    "webhook-deliveries-requeue-sweep": {
        "task": "resale.webhooks.tasks.webhook_deliveries_requeue_sweep",
        "schedule": float(env("WEBHOOK_REQUEUE_SWEEP_SECONDS", "30")),
    },
    "pending-erasures-sweep": {
        "task": "resale.privacy.tasks.pending_erasures_sweep",
        "schedule": float(env("ERASURE_SWEEP_SECONDS", "60")),
    },
    # "history-checkpoints-sweep" is added below, beside AUDIT_CHECKPOINT_SECONDS.
}
# An erasure whose request failed midway and was not sent again in this long is completed by the
# sweep (resale.privacy.services); longer than any request takes, so the sweep never races one.
ERASURE_RETRY_AFTER_SECONDS = float(env("ERASURE_RETRY_AFTER_SECONDS", "120"))


# ==================================================================================================
# The data plane (platform/resale): DynamoDB, the tenant API, orders, media, streams,
# the history, webhooks
# ==================================================================================================

# DynamoDB: DynamoDB Local on this port by default (started by `make run`); on AWS leave the
# endpoint empty and configure real credentials.
DYNAMODB_ENDPOINT = env("DYNAMODB_ENDPOINT", "http://127.0.0.1:8100") or None
AWS_REGION = env("AWS_REGION", "us-east-1")
AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", "local")
AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", "local")
TENANT_TABLE_PREFIX = env("TENANT_TABLE_PREFIX", "resale")
DYNAMODB_MAX_POOL_CONNECTIONS = int(env("DYNAMODB_MAX_POOL_CONNECTIONS", "50"))
# A stalled DynamoDB costs a data-plane call (every attempt and backoff) at most the deadline, then
# the caller answers 503 with Retry-After instead of holding a web thread for the stall. A read timeout
# as long as the deadline ends the call: a write whose outcome is unknown is not sent again (a retried
# conditional write that had in fact succeeded would fail its own condition), while refused
# connections, throttling and 5xx answers are still retried within the deadline.
DYNAMODB_CONNECT_TIMEOUT_SECONDS = float(env("DYNAMODB_CONNECT_TIMEOUT_SECONDS", "1"))
DYNAMODB_READ_TIMEOUT_SECONDS = float(env("DYNAMODB_READ_TIMEOUT_SECONDS", "2"))
DYNAMODB_MAX_RETRY_ATTEMPTS = int(env("DYNAMODB_MAX_RETRY_ATTEMPTS", "2"))
DYNAMODB_CALL_DEADLINE_SECONDS = float(env("DYNAMODB_CALL_DEADLINE_SECONDS", "2"))
# How the data plane's item operations reach DynamoDB: "wire" (signed JSON through libcurl; why,
# and what it saves, in resale.dynamodb_wire) or "botocore" (its client, as PynamoDB).
DYNAMODB_TRANSPORT = env("DYNAMODB_TRANSPORT", "wire")
if DYNAMODB_TRANSPORT not in {"wire", "botocore"}:
    raise RuntimeError("DYNAMODB_TRANSPORT must be 'wire' or 'botocore'")

# The tenant API.
# How long a tenant's routing (tables, status, schema) is cached in-process; suspensions and
# schema changes take effect within this many seconds.
TENANT_ROUTE_CACHE_SECONDS = float(env("TENANT_ROUTE_CACHE_SECONDS", "5"))
API_MAX_BODY_BYTES = int(env("API_MAX_BODY_BYTES", str(64 * 1024)))
# A list reads at most this many DynamoDB pages per request, then answers with a cursor.
API_LIST_READ_BUDGET_PAGES = int(env("API_LIST_READ_BUDGET_PAGES", "3"))
# Items a filtered list evaluates per page: its filter discards most of them.
API_LIST_FILTERED_PAGE_SIZE = int(env("API_LIST_FILTERED_PAGE_SIZE", "100"))
RATELIMIT_REDIS_URL = env("RATELIMIT_REDIS_URL", REDIS_URL)
RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

# Orders, their workflow and the payment and shipping providers.
# Payment tokens are sealed (Fernet) while an order waits for its charge; the key derives from
# this secret (defaults to SECRET_KEY).
PAYMENT_TOKEN_SECRET = env("PAYMENT_TOKEN_SECRET", SECRET_KEY)
PAYMENT_PROVIDER_URL = env("PAYMENT_PROVIDER_URL", "http://127.0.0.1:8000/sandbox/payments")
SHIPPING_PROVIDER_URL = env("SHIPPING_PROVIDER_URL", "http://127.0.0.1:8000/sandbox/shipping")
PROVIDER_TIMEOUT_SECONDS = float(env("PROVIDER_TIMEOUT_SECONDS", "5"))
ORDER_WORKFLOW_MAX_RETRIES = int(env("ORDER_WORKFLOW_MAX_RETRIES", "5"))
# The order workflow's retry backoff, as Celery's `retry_backoff`: whole seconds, at least 1.
ORDER_WORKFLOW_BACKOFF_SECONDS = float(env("ORDER_WORKFLOW_BACKOFF_SECONDS", "1"))
# An in-flight order unchanged this long has lost its workflow; the beat sweep queues it again.
ORDER_STALLED_AFTER_SECONDS = float(env("ORDER_STALLED_AFTER_SECONDS", "300"))
# Off unless turned on, whatever DJANGO_ENV is: `make run` and the tests turn it on.
SANDBOX_PROVIDERS_ENABLED = env_bool("SANDBOX_PROVIDERS_ENABLED", False)
SANDBOX_REDIS_URL = env("SANDBOX_REDIS_URL", REDIS_URL)

# Listing images: "local" (files under MEDIA_ROOT, uploaded to and served by the platform) or "s3".
MEDIA_STORAGE_BACKEND = env("MEDIA_STORAGE_BACKEND", "local")
MEDIA_S3_BUCKET = env("MEDIA_S3_BUCKET", "")
MEDIA_S3_ENDPOINT = env("MEDIA_S3_ENDPOINT", "") or None
MEDIA_UPLOAD_MAX_BYTES = int(env("MEDIA_UPLOAD_MAX_BYTES", str(5 * 1024 * 1024)))
MEDIA_UPLOAD_URL_SECONDS = int(env("MEDIA_UPLOAD_URL_SECONDS", "600"))
MEDIA_ALLOWED_TYPES = env("MEDIA_ALLOWED_TYPES", "image/jpeg,image/png,image/webp").split(",")

# Stream consumers (history, search, webhooks): see resale.streams.consumer.
STREAMS_LEASE_SECONDS = float(env("STREAMS_LEASE_SECONDS", "15"))
STREAMS_DISCOVERY_SECONDS = float(env("STREAMS_DISCOVERY_SECONDS", "10"))
STREAMS_POLL_IDLE_SECONDS = float(env("STREAMS_POLL_IDLE_SECONDS", "0.2"))
# An idle shard is read after a delay doubling from STREAMS_POLL_IDLE_SECONDS up to a cap, and at
# once after a write to its tenant is noted (resale.streams.wake, flushed to Redis this often).
# The cap is the WAKEABLE one while the consumer reads the wake notes, since a write wakes its
# shards anyway, and the shorter one while it cannot: then it bounds the lag of every write.
STREAMS_IDLE_BACKOFF_MAX_SECONDS = float(env("STREAMS_IDLE_BACKOFF_MAX_SECONDS", "30"))
STREAMS_IDLE_BACKOFF_MAX_WAKEABLE_SECONDS = float(env("STREAMS_IDLE_BACKOFF_MAX_WAKEABLE_SECONDS", "300"))
STREAMS_WAKE_FLUSH_SECONDS = float(env("STREAMS_WAKE_FLUSH_SECONDS", "0.2"))
# A stream's shards are described again when it changes (resale.streams.discovery); this is only
# the safety net, each stream at its own time between half and all of it.
STREAMS_REDISCOVERY_SECONDS = float(env("STREAMS_REDISCOVERY_SECONDS", "1800"))
STREAMS_BATCH_LIMIT = int(env("STREAMS_BATCH_LIMIT", "500"))
STREAMS_METRICS_PORT = int(env("STREAMS_METRICS_PORT", "9310"))  # 0: no metrics endpoint
# A stream batch that fails this many times is applied record by record; a record that still
# fails goes to the dead letters, with a GAP event in the history.
STREAMS_MAX_BATCH_ATTEMPTS = int(env("STREAMS_MAX_BATCH_ATTEMPTS", "3"))

# On AWS the tenant's Lambda builds the history and queues the other effects on the tenant's
# stream-effects SQS queue (its URL the provisioning output ``effects_queue_url``);
# ``manage.py consume_stream_effects`` applies them (resale.streams.effects_drainer): one long
# poll of STREAM_EFFECTS_WAIT_SECONDS per queue at a time, at most STREAM_EFFECTS_APPLY_CONCURRENCY
# batches applied (PostgreSQL connections) at once. The endpoint is set only for a local stand-in.
STREAM_EFFECTS_SQS_ENDPOINT = env("STREAM_EFFECTS_SQS_ENDPOINT", "") or None
STREAM_EFFECTS_WAIT_SECONDS = int(env("STREAM_EFFECTS_WAIT_SECONDS", "20"))
STREAM_EFFECTS_APPLY_CONCURRENCY = int(env("STREAM_EFFECTS_APPLY_CONCURRENCY", "4"))

# The history: its warehouse export, and the history as evidence (resale.history.checkpoints).
HISTORY_EXPORT_DIR = Path(env("HISTORY_EXPORT_DIR", str(BASE_DIR / ".local" / "history-exports")))
# The checkpoint signing keys: a JWK set
# (JSON) of Ed25519 private keys, each with its "kid"; the one named by AUDIT_SIGNING_KEY_ID signs
# (default: the last), the others stay published so older checkpoints still verify. Locally a key
# is generated into AUDIT_SIGNING_KEYS_FILE when none is given; production requires the set (in
# production the answer is a KMS asymmetric key, see the README).
AUDIT_SIGNING_KEYS = env("AUDIT_SIGNING_KEYS", "")
AUDIT_SIGNING_KEY_ID = env("AUDIT_SIGNING_KEY_ID", "")
AUDIT_SIGNING_KEYS_FILE = Path(
    env("AUDIT_SIGNING_KEYS_FILE", str(BASE_DIR / ".local" / "audit-signing-keys.json"))
)
if PRODUCTION and not AUDIT_SIGNING_KEYS:
    raise RuntimeError("AUDIT_SIGNING_KEYS must be set when DJANGO_ENV=production")
AUDIT_CHECKPOINT_SECONDS = float(env("AUDIT_CHECKPOINT_SECONDS", "30"))
# The one signer of checkpoints, locally and on AWS (resale.history.checkpoints). A sweep still
# queued when the next is due is dropped: the next one signs the same heads.
CELERY_BEAT_SCHEDULE["history-checkpoints-sweep"] = {
    "task": "resale.history.tasks.history_checkpoints_sweep",
    "schedule": AUDIT_CHECKPOINT_SECONDS,
    "options": {"expires": AUDIT_CHECKPOINT_SECONDS},
}
# /audit/verify answers from a cached verification that each call brings forward over a bounded
# number of new events (a job does the rest); a full re-verification from seq 1 runs as a job when
# the last is older than AUDIT_FULL_VERIFY_SECONDS, or on POST.
AUDIT_FULL_VERIFY_SECONDS = float(env("AUDIT_FULL_VERIFY_SECONDS", str(24 * 3600)))
AUDIT_REPORT_MAX_ROWS = int(env("AUDIT_REPORT_MAX_ROWS", "10000"))

# Webhooks: signed deliveries retried with backoff, then dead-lettered.
WEBHOOK_MAX_ATTEMPTS = int(env("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_RETRY_BASE_SECONDS = float(env("WEBHOOK_RETRY_BASE_SECONDS", "2"))
WEBHOOK_RETRY_MAX_SECONDS = float(env("WEBHOOK_RETRY_MAX_SECONDS", "300"))
# The whole of one attempt (connect, TLS, send, the answer): what a receiver can hold a worker for.
WEBHOOK_TIMEOUT_SECONDS = float(env("WEBHOOK_TIMEOUT_SECONDS", "5"))
if not 0 < WEBHOOK_TIMEOUT_SECONDS <= 30:
    raise RuntimeError("WEBHOOK_TIMEOUT_SECONDS must be more than 0 and at most 30")
# CA certificates that receivers' TLS certificates are checked against (empty: botocore's bundle).
WEBHOOK_CA_BUNDLE = env("WEBHOOK_CA_BUNDLE", "") or None
# Off unless turned on, whatever DJANGO_ENV is: `make run` and the tests turn it on.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)


# ==================================================================================================
# Provisioning (provisioning/): the tenant program, its engines, onboarding, offboarding,
# the fleet
# ==================================================================================================

PROVISIONING_ENGINE = env("PROVISIONING_ENGINE", "auto")  # auto | local | automation
PULUMI_BACKEND_URL = env("PULUMI_BACKEND_URL", f"file://{BASE_DIR / '.local' / 'pulumi'}")
PULUMI_WORKSPACES_DIR = Path(env("PULUMI_WORKSPACES_DIR", str(BASE_DIR / ".local" / "pulumi-workspaces")))
OFFBOARDING_EXPORT_DIR = Path(env("OFFBOARDING_EXPORT_DIR", str(BASE_DIR / ".local" / "exports")))
LOCAL_CELL_TABLE_BUDGET = int(env("LOCAL_CELL_TABLE_BUDGET", "10000"))
# Offboarding waits this long after the 202 before it exports: every web process refuses the
# tenant within TENANT_ROUTE_CACHE_SECONDS, and a write admitted just before that ends within
# its DynamoDB calls' timeouts and retries. An export that still disagrees with a fresh count
# (a straggler: the order workflow, the history) is taken again, at most this many times.
OFFBOARDING_DRAIN_SECONDS = float(
    env(
        "OFFBOARDING_DRAIN_SECONDS",
        str(
            TENANT_ROUTE_CACHE_SECONDS
            + (1 + DYNAMODB_MAX_RETRY_ATTEMPTS)
            * (DYNAMODB_CONNECT_TIMEOUT_SECONDS + DYNAMODB_READ_TIMEOUT_SECONDS)
        ),
    )
)
OFFBOARDING_EXPORT_ATTEMPTS = int(env("OFFBOARDING_EXPORT_ATTEMPTS", "3"))
OFFBOARDING_EXPORT_SETTLE_SECONDS = float(env("OFFBOARDING_EXPORT_SETTLE_SECONDS", "2"))
# The tenant program's config, the local cell, retries of a step.
LOCAL_CELL_ENABLED = env_bool("LOCAL_CELL_ENABLED", not PRODUCTION)  # get_or_create the one local cell
LOCAL_CELL_NAME = env("LOCAL_CELL_NAME", "local")
PREMIUM_REPLICA_REGION = env("PREMIUM_REPLICA_REGION", "us-west-2")  # premium tiers' global-table replicas
STREAM_CONSUMER_LAMBDA_HANDLER = env("STREAM_CONSUMER_LAMBDA_HANDLER", "resale.streams.lambda_handler.handle")
TENANT_ROLE_TRUSTED_PRINCIPALS = [p for p in env("TENANT_ROLE_TRUSTED_PRINCIPALS", "").split(",") if p]
PROVISIONING_EVALUATION_TIMEOUT = float(env("PROVISIONING_EVALUATION_TIMEOUT", "120"))
PROVISIONING_STEP_MAX_RETRIES = int(env("PROVISIONING_STEP_MAX_RETRIES", "8"))
PULUMI_CONFIG_PASSPHRASE = env("PULUMI_CONFIG_PASSPHRASE", "")
# Fleet: a rollout tries a tenant busy with another run again after this long.
ROLLOUT_BUSY_TENANT_RETRY_SECONDS = float(env("ROLLOUT_BUSY_TENANT_RETRY_SECONDS", "10"))


# ==================================================================================================
# The control plane (control_plane/): staff sign-in, the console, operations endpoints
# ==================================================================================================

# Sign-in lockouts (django-axes, counting in Redis) on every way in that checks a password: the
# control-plane token, the console's login and invitations, Django's admin. LOGIN_FAILURE_LIMIT
# failures for one username (as Django signs it in: NFKC) or from one client address refuse it
# (429, Retry-After) without hashing a password, until LOGIN_LOCKOUT_SECONDS pass without a failure.
# Sign-ins for one username run one at a time (control_plane.signin), so parallel guesses get no more.
LOGIN_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_SECONDS = int(env("LOGIN_LOCKOUT_SECONDS", "900"))
# Proxies in front of the platform that each append the address they were reached from to
# X-Forwarded-For; the client address is the one the outermost of them saw (httpkit.client_address).
TRUSTED_PROXY_HOPS = int(env("TRUSTED_PROXY_HOPS", "1" if PRODUCTION else "0"))
AUTHENTICATION_BACKENDS = [
    "control_plane.signin.SigninLockBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "control_plane.signin.lockout_username"
AXES_CLIENT_IP_CALLABLE = "httpkit.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "control_plane.signin.lockout_response"
# Staff tokens of the control-plane API (django-rest-knox: stored as digests) expire after this.
STAFF_TOKEN_TTL_SECONDS = int(env("STAFF_TOKEN_TTL_SECONDS", str(8 * 3600)))
REST_KNOX = {"TOKEN_TTL": timedelta(seconds=STAFF_TOKEN_TTL_SECONDS), "AUTO_REFRESH": False}

# Web console: how long an emailed invitation stays valid, and how long the health page waits for workers.
CONSOLE_INVITATION_MAX_AGE_SECONDS = int(env("CONSOLE_INVITATION_MAX_AGE_SECONDS", str(7 * 24 * 3600)))
CONSOLE_WORKER_PING_TIMEOUT_SECONDS = float(env("CONSOLE_WORKER_PING_TIMEOUT_SECONDS", "1.0"))

# /metrics and /readyz's per-dependency detail: public locally; in production only to a request
# with `Authorization: Bearer <OPS_TOKEN>` (a bare /readyz stays public: 200 or 503, no detail).
OPS_DETAILS_PUBLIC = env_bool("OPS_DETAILS_PUBLIC", not PRODUCTION)
OPS_TOKEN = env("OPS_TOKEN", "")


# ==================================================================================================
# Production: what `manage.py check --deploy` asks for
# ==================================================================================================

if PRODUCTION:
    DEBUG = False
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
