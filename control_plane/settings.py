"""Settings for the whole platform, read from the environment in this one place.

Local defaults are safe for a laptop; ``DJANGO_ENV=production`` switches on the
settings under which ``manage.py check --deploy`` reports nothing.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


PRODUCTION = env("DJANGO_ENV", "local") == "production"

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
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_prometheus",
    "tenants",
    "provisioning",
    "resale",
    "control_plane",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "httpkit.request_context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "httpkit.tenant_metrics.TenantMetricsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

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

# DynamoDB: DynamoDB Local on this port by default (started by `make run`); on AWS leave the
# endpoint empty and configure real credentials.
DYNAMODB_ENDPOINT = env("DYNAMODB_ENDPOINT", "http://127.0.0.1:8100") or None
AWS_REGION = env("AWS_REGION", "us-east-1")
AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", "local")
AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", "local")
TENANT_TABLE_PREFIX = env("TENANT_TABLE_PREFIX", "resale")
DYNAMODB_MAX_POOL_CONNECTIONS = int(env("DYNAMODB_MAX_POOL_CONNECTIONS", "50"))

# Provisioning.
PROVISIONING_ENGINE = env("PROVISIONING_ENGINE", "auto")  # auto | local | automation
PULUMI_BACKEND_URL = env("PULUMI_BACKEND_URL", f"file://{BASE_DIR / '.local' / 'pulumi'}")
PULUMI_WORKSPACES_DIR = Path(env("PULUMI_WORKSPACES_DIR", str(BASE_DIR / ".local" / "pulumi-workspaces")))
OFFBOARDING_EXPORT_DIR = Path(env("OFFBOARDING_EXPORT_DIR", str(BASE_DIR / ".local" / "exports")))
LOCAL_CELL_TABLE_BUDGET = int(env("LOCAL_CELL_TABLE_BUDGET", "10000"))

# Celery (Redis broker). Tasks survive a killed worker: late ack plus reject on worker lost.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
# Task modules that autodiscovery (``<app>.tasks``) does not reach: domain packages of the data plane.
CELERY_IMPORTS = ("resale.webhooks.tasks",)

# Stream consumers (history, search, webhooks): see resale.streams.consumer.
STREAMS_LEASE_SECONDS = float(env("STREAMS_LEASE_SECONDS", "15"))
STREAMS_DISCOVERY_SECONDS = float(env("STREAMS_DISCOVERY_SECONDS", "10"))
STREAMS_POLL_IDLE_SECONDS = float(env("STREAMS_POLL_IDLE_SECONDS", "0.2"))
STREAMS_BATCH_LIMIT = int(env("STREAMS_BATCH_LIMIT", "500"))
STREAMS_METRICS_PORT = int(env("STREAMS_METRICS_PORT", "9310"))  # 0: no metrics endpoint
HISTORY_EXPORT_DIR = Path(env("HISTORY_EXPORT_DIR", str(BASE_DIR / ".local" / "history-exports")))

# Webhooks: signed deliveries retried with backoff, then dead-lettered.
WEBHOOK_MAX_ATTEMPTS = int(env("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_RETRY_BASE_SECONDS = float(env("WEBHOOK_RETRY_BASE_SECONDS", "2"))
WEBHOOK_RETRY_MAX_SECONDS = float(env("WEBHOOK_RETRY_MAX_SECONDS", "300"))
WEBHOOK_TIMEOUT_SECONDS = float(env("WEBHOOK_TIMEOUT_SECONDS", "5"))
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", not PRODUCTION)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/console/login/"
LOGIN_REDIRECT_URL = "/console/"

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
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Resale platform API",
    "DESCRIPTION": "The control-plane API for platform staff and the tenant API for storefronts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "httpkit.request_context.RequestContextLogFilter"}},
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
    "loggers": {"botocore": {"level": "WARNING"}, "pynamodb": {"level": "WARNING"}},
}

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
