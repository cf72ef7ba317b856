#!/usr/bin/env bash
# The dev mesh on a laptop: two kind clusters on one Docker network, their node addresses written into the
# dev stack, `pulumi up`, then `npm run verify` until the mesh is healthy (or 10 minutes pass).
#
# Needs docker, kind, node/npm and the Pulumi CLI (logged in, the dev stack selected or created).
# Environment: STACK (default dev), KIND_NODE_IMAGE (default below), KIND_EXPERIMENTAL_DOCKER_NETWORK.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/kind/lib.sh
. scripts/kind/lib.sh

stack="${STACK:-dev}"
# Istio 1.30 supports Kubernetes 1.32 and later; kind node images are pinned to a release.
image="${KIND_NODE_IMAGE:-kindest/node:v1.33.1}"

for cluster in cluster1 cluster2; do
    if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
        echo "kind: ${cluster} exists; keeping it"
    else
        kind create cluster --name "$cluster" --image "$image" --wait 120s
    fi
done

ip1="$(kind_node_address cluster1-control-plane)"
ip2="$(kind_node_address cluster2-control-plane)"
echo "kind: cluster1 at ${ip1}, cluster2 at ${ip2} on Docker network $(kind_network)"
write_dev_addresses "$stack" "$ip1" "$ip2"

pulumi up --stack "$stack" --yes
npm run verify -- --stack "$stack" --wait 10m
