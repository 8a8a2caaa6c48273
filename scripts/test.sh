#!/usr/bin/env bash
# Runs the whole suite; the tests start DynamoDB Local themselves. Exit code 5 (no tests ran) fails.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
code=$?
if [ "$code" = 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi
exit "$code"
