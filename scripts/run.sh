#!/usr/bin/env bash
# Runs the whole platform in the foreground under supervisord (scripts/supervisord.conf): a process that
# dies is restarted with backoff while the rest keep serving; Ctrl-C or SIGTERM stops what it started.
# WEB_PORT, WEB_WORKERS, WORKER_CONCURRENCY and RUN_DIR (sockets, pid, beat schedule) may be overridden.
set -euo pipefail
cd "$(dirname "$0")/.."
export RESALE_ROOT="$PWD"
export RUN_DIR="${RUN_DIR:-$PWD/.local/run}"
export WEB_PORT="${WEB_PORT:-8000}" WEB_WORKERS="${WEB_WORKERS:-2}" WORKER_CONCURRENCY="${WORKER_CONCURRENCY:-2}"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput -v 0
# The web server's workers share their Prometheus series through this folder; a new run starts it empty.
rm -rf "$RUN_DIR/prometheus" && mkdir -p "$RUN_DIR/prometheus"
cat <<MSG

  Console:  http://127.0.0.1:$WEB_PORT/console/
  API:      http://127.0.0.1:$WEB_PORT/api/docs/
  Status:   RUN_DIR=$RUN_DIR .venv/bin/supervisorctl -c scripts/supervisord.conf status
  Create a staff user (in another shell):
    DJANGO_SUPERUSER_USERNAME=staff DJANGO_SUPERUSER_PASSWORD=... DJANGO_SUPERUSER_EMAIL=staff@example.com \\
      .venv/bin/python manage.py createsuperuser --noinput

MSG
# A local run turns on what production never gets by default: the payment and shipping sandbox,
# and webhooks to receivers on this machine.
export SANDBOX_PROVIDERS_ENABLED="${SANDBOX_PROVIDERS_ENABLED:-1}"
export WEBHOOK_ALLOW_PRIVATE_TARGETS="${WEBHOOK_ALLOW_PRIVATE_TARGETS:-1}"
exec .venv/bin/supervisord -c scripts/supervisord.conf
