#!/usr/bin/env bash
# Runs the suite on TEST_WORKERS pytest-xdist workers (2: one per core of the development machines);
# the tests start DynamoDB Local themselves, one per worker. Exit code 5 (no tests ran) fails.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadgroup "$@"
code=$?
if [ "$code" = 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi
exit "$code"
