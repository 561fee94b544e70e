#!/usr/bin/env bash
# Benchmark (not a test) of P12 inspection per file, three implementations in one run:
#   native  mtls_sdk::inspect_p12, release build (sdk/examples/bench_inspect.rs)
#   wasm    inspectP12 of the built npm package in Node (bench_wasm.mjs)
#   pyca    cryptography's pkcs12.load_key_and_certificates, i.e. OpenSSL (bench_pyca.py)
# on P12 files made now by OpenSSL 3: default (PBES2 AES-256, SHA-256 MAC) and -legacy
# (RC2-40 certificates, 3DES key, SHA-1 MAC), RSA-2048 and EC P-256, 2048 iterations each.
# Prints per-file mean microseconds and the ratios. RUNS (default 200) sets the sample size.
#
# Needs: scripts/install-test-deps.sh (wasm tools, pyca cryptography) and scripts/build-pkg.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
runs=${RUNS:-200}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -f "$root/pkg/package.json" ] || { echo "pkg/ missing: run scripts/build-pkg.sh" >&2; exit 1; }
(cd "$root" && cargo build --quiet --release -p mtls-sdk --example bench_inspect)
native="${CARGO_TARGET_DIR:-$root/target}/release/examples/bench_inspect"

cd "$work"
password=bench-password
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt -subj /CN=bench-rsa \
  -days 30 -addext extendedKeyUsage=clientAuth 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key -out ec.crt \
  -subj /CN=bench-ec -days 30 -addext extendedKeyUsage=clientAuth 2>/dev/null
for key in rsa ec; do
  openssl pkcs12 -export -inkey $key.key -in $key.crt -passout pass:$password -out $key-default.p12
  openssl pkcs12 -export -legacy -inkey $key.key -in $key.crt -passout pass:$password -out $key-legacy.p12
done

field() { node -e 'const r = JSON.parse(process.argv[1]); console.log(r[process.argv[2]])' "$1" "$2"; }

echo "inspectP12 per file, mean of $runs runs after one warm-up (microseconds; lower is better)"
printf '%-14s %10s %10s %10s   %12s %12s %10s\n' file native wasm pyca wasm/native native/pyca wasm/pyca
for file in rsa-default rsa-legacy ec-default ec-legacy; do
  n=$("$native" "$file.p12" "$password" "$runs")
  w=$(node "$here/bench_wasm.mjs" "$file.p12" "$password" "$runs")
  p=$(python3 "$here/bench_pyca.py" "$file.p12" "$password" "$runs")
  [ "$(field "$n" usable)" = true ] && [ "$(field "$w" usable)" = true ] \
    || echo "warning: $file not usable by inspect_p12 (native $(field "$n" usable), wasm $(field "$w" usable))" >&2
  nm=$(field "$n" meanMicros); wm=$(field "$w" meanMicros); pm=$(field "$p" meanMicros)
  awk -v f="$file" -v n="$nm" -v w="$wm" -v p="$pm" 'BEGIN {
    printf "%-14s %10.0f %10.0f %10.0f   %12.2f %12.2f %10.2f\n", f, n, w, p, w / n, n / p, w / p }'
done
