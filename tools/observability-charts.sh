#!/usr/bin/env bash
# Fetches the observability charts the charts tier (`npm run test:charts`) renders: exactly the versions
# pinned in stacks/observability.ts (`chartDefaults`), each as the package `helm pull` writes,
# <chart>-<version>.tgz, into one directory (default ../shared/observability-charts beside the repository,
# where the tier looks when OBSERVABILITY_CHARTS_DIR is unset):
#   tools/observability-charts.sh [output dir] && npm run test:charts
# Needs network, helm (v3 or v4) on PATH, and the repository's node_modules (tsx reads the pins).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/../shared/observability-charts}"
command -v helm >/dev/null || { echo "observability-charts.sh: helm is not on PATH" >&2; exit 1; }
# One line per chart: name, version, repository (an https chart repository or an oci:// registry).
pins="$(cd "$root" && node --import tsx -e '
const { chartDefaults } = require("./stacks/observability");
for (const p of Object.values(chartDefaults)) console.log([p.chart, p.version, p.repository].join(" "));
')"
[ -n "$pins" ] || { echo "observability-charts.sh: no chart pins read from stacks/observability.ts" >&2; exit 1; }
mkdir -p "$out"
while read -r chart version repository; do
    if [ -f "$out/$chart-$version.tgz" ]; then
        echo "$chart $version: already in $out"
        continue
    fi
    case "$repository" in
        oci://*) helm pull "$repository/$chart" --version "$version" --destination "$out" ;;
        *) helm pull "$chart" --repo "$repository" --version "$version" --destination "$out" ;;
    esac
    [ -f "$out/$chart-$version.tgz" ] || { echo "observability-charts.sh: helm pull wrote no $chart-$version.tgz" >&2; exit 1; }
    echo "$chart $version: fetched from $repository"
done <<<"$pins"
echo "observability charts in $out; run: OBSERVABILITY_CHARTS_DIR=$out npm run test:charts"
