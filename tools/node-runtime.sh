#!/usr/bin/env bash
# Installs one Node.js release from the npm registry (the node-linux-<arch> package, which ships Node's own
# binary) into .runtimes/node-<version> (git-ignored) and prints its bin directory, for a caller to put first
# on PATH. CI uses it to run the suite on every Node.js line package.json's engines claims, on a machine whose
# own Node.js may be another; nothing is fetched from anywhere but the npm registry.
#   tools/node-runtime.sh 24.22.3   ->   /path/to/repo/.runtimes/node-24.22.3/bin
set -euo pipefail
version="${1:?usage: tools/node-runtime.sh <exact Node.js version, e.g. 24.22.3>}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "node-runtime: '$version' is not an exact version (e.g. 24.22.3)" >&2; exit 2; }
case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node-runtime: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)/.runtimes"
dir="$root/node-$version"
if [ ! -x "$dir/bin/node" ] || [ "$("$dir/bin/node" --version)" != "v$version" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    tarball="$(cd "$root" && npm pack --silent "node-linux-$arch@$version")"
    tar -xzf "$root/$tarball" -C "$dir" --strip-components=1
    rm -f "$root/$tarball"
    [ "$("$dir/bin/node" --version)" = "v$version" ] || { echo "node-runtime: $dir/bin/node is not v$version" >&2; exit 1; }
fi
echo "$dir/bin"
