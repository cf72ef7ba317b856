#!/usr/bin/env bash
# Tears the kind recipe down: the stack's resources, then both clusters (their state goes with them).
# Environment: STACK (default dev); KEEP_STACK=1 deletes only the clusters.
set -euo pipefail
cd "$(dirname "$0")/../.."
stack="${STACK:-dev}"
if [[ "${KEEP_STACK:-0}" != 1 ]]; then
    pulumi destroy --stack "$stack" --yes
fi
for cluster in cluster1 cluster2; do
    kind delete cluster --name "$cluster"
done
