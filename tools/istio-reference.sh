#!/usr/bin/env bash
# Assembles the Istio reference data the tests validate against (charts' values, the gateway chart's
# schema, the CRDs) from Istio's own repository at a release tag, in the layout ISTIO_REFERENCE_DIR expects.
# For CI hosts that have GitHub but not this project's shared/ directory:
#   tools/istio-reference.sh 1.30.3 "$RUNNER_TEMP/istio-reference" && export ISTIO_REFERENCE_DIR=...
set -euo pipefail
version="${1:?usage: istio-reference.sh <istio version> <output dir>}"
out="${2:?usage: istio-reference.sh <istio version> <output dir>}"
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
git clone --quiet --depth 1 --branch "$version" --filter=blob:none --sparse https://github.com/istio/istio.git "$src"
git -C "$src" sparse-checkout set manifests/charts/base manifests/charts/istio-control/istio-discovery manifests/charts/gateway
mkdir -p "$out/charts/base" "$out/charts/istiod" "$out/charts/gateway" "$out/crds"
cp "$src/manifests/charts/base/values.yaml" "$out/charts/base/values.yaml"
cp "$src/manifests/charts/istio-control/istio-discovery/values.yaml" "$out/charts/istiod/values.yaml"
cp "$src/manifests/charts/gateway/values.yaml" "$src/manifests/charts/gateway/values.schema.json" "$out/charts/gateway/"
cp "$src/manifests/charts/base/files/crd-all.gen.yaml" "$out/crds/crd-all.gen.yaml"
echo "Istio $version reference data in $out"
