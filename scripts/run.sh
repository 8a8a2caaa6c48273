#!/usr/bin/env bash
# Runs the whole platform in the foreground under honcho; Ctrl-C or SIGTERM stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput -v 0
# The web server's workers share their Prometheus series through this folder; a new run starts it empty.
rm -rf .local/prometheus && mkdir -p .local/prometheus
cat <<'MSG'

  Console:  http://127.0.0.1:8000/console/
  API:      http://127.0.0.1:8000/api/docs/
  Create a staff user (in another shell):
    DJANGO_SUPERUSER_USERNAME=staff DJANGO_SUPERUSER_PASSWORD=... DJANGO_SUPERUSER_EMAIL=staff@example.com \
      .venv/bin/python manage.py createsuperuser --noinput

MSG
# A local run turns on what production never gets by default: the payment and shipping sandbox,
# and webhooks to receivers on this machine.
export SANDBOX_PROVIDERS_ENABLED="${SANDBOX_PROVIDERS_ENABLED:-1}"
export WEBHOOK_ALLOW_PRIVATE_TARGETS="${WEBHOOK_ALLOW_PRIVATE_TARGETS:-1}"
exec .venv/bin/honcho -f Procfile start
