#!/usr/bin/env bash
# Benchmark (not a test) of generateCsr and buildP12 of the npm package beside @peculiar/x509 and
# node-forge, in one Node run (bench.mjs explains what each row measures). Prints medians, means
# and ratios, and the gzip sizes. RUNS_EC, RUNS_RSA, RUNS_P12 set the sample sizes.
#
# Needs: scripts/build-pkg.sh (pkg/), openssl, npm (installs this folder's pinned devDependencies).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
[ -f "$root/pkg/package.json" ] || { echo "pkg/ missing: run scripts/build-pkg.sh" >&2; exit 1; }
[ -d "$here/node_modules/node-forge" ] || (cd "$here" && npm ci --silent)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# An RSA-2048 client key (forge's PKCS#12 writer takes RSA only) under a root and intermediate.
openssl req -x509 -newkey rsa:2048 -noenc -keyout root.key -out root.pem -subj /CN=Bench-Root \
  -days 2 2>/dev/null
openssl req -new -newkey rsa:2048 -noenc -keyout int.key -out int.csr -subj /CN=Bench-Intermediate \
  2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >ca.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 2 -extfile ca.ext \
  -out int.pem 2>/dev/null
openssl req -new -newkey rsa:2048 -noenc -keyout leaf.key -out leaf.csr -subj /CN=bench-client \
  -addext extendedKeyUsage=clientAuth 2>/dev/null
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 2 \
  -copy_extensions copy -out leaf.pem 2>/dev/null
cat leaf.pem int.pem root.pem >chain.pem

node "$here/bench.mjs" "$work" "$root/pkg"
