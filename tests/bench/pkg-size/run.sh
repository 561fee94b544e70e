#!/usr/bin/env bash
# Benchmark (not a test) of the npm package's weight (SPEC section 14): what a browser downloads,
# gzip -9, for the page-load part (entry + client, no WebAssembly), each WebAssembly module and
# everything, beside node-forge and @peculiar/x509 (pinned in this folder's package-lock.json);
# then the package as npm publishes it (`npm pack`) and as a project installs it (the tarball
# installed into an empty project in a temp dir, `du` of node_modules/mtls-sdk).
#
# Needs: scripts/build-pkg.sh (pkg/), npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
[ -f "$root/pkg/package.json" ] || { echo "pkg/ missing: run scripts/build-pkg.sh" >&2; exit 1; }
[ -d "$here/node_modules/node-forge" ] || (cd "$here" && npm ci --silent --no-audit --no-fund)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(cd "$root/pkg" && npm pack --silent --pack-destination "$work")
mkdir "$work/project"
(cd "$work/project" && echo '{ "private": true }' >package.json \
  && npm install --silent --no-audit --no-fund --offline "$work/$tarball")
installed=$(du -sb "$work/project/node_modules/mtls-sdk" | cut -f1)
node "$here/measure.mjs" "$root/pkg" "$installed" "$(wc -c <"$work/$tarball")"
