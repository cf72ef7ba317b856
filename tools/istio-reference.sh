#!/usr/bin/env bash
# Assembles the Istio reference data the conformance tier (`npm run test:conformance`) validates against, in
# the layout ISTIO_REFERENCE_DIR expects: Istio's official chart packages, whole (charts/base, charts/istiod,
# charts/gateway, as `helm pull` unpacks them), and the CRDs of the release (crds/crd-all.gen.yaml, which the
# base chart package carries as files/crd-all.gen.yaml). For CI hosts that have the internet but not this
# project's shared/ directory:
#   tools/istio-reference.sh 1.30.3 "$RUNNER_TEMP/istio-reference" && export ISTIO_REFERENCE_DIR=...
# Needs helm (v3 or v4) on PATH; GitHub's ubuntu runners have it.
set -euo pipefail
version="${1:?usage: istio-reference.sh <istio version> <output dir>}"
out="${2:?usage: istio-reference.sh <istio version> <output dir>}"
repo="https://istio-release.storage.googleapis.com/charts"
command -v helm >/dev/null || { echo "istio-reference.sh: helm is not on PATH" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for chart in base istiod gateway; do
    helm pull "$chart" --repo "$repo" --version "$version" --untar --untardir "$tmp/$chart"
    rm -rf "${out:?}/charts/$chart"
    mkdir -p "$out/charts"
    mv "$tmp/$chart/$chart" "$out/charts/$chart"
done
mkdir -p "$out/crds"
cp "$out/charts/base/files/crd-all.gen.yaml" "$out/crds/crd-all.gen.yaml"
echo "Istio $version reference data in $out"
