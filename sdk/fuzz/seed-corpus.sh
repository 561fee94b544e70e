#!/usr/bin/env bash
# Writes the seed corpus of the inspect_p12 fuzz target into corpus/inspect_p12/: small P12
# files (P-256 keys) in the main container variants, each prefixed with the password selector
# byte the target reads (0 = "fuzz", 1 = ""). Idempotent; needs only openssl.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/inspect_p12
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/key.pem" 2>/dev/null
openssl req -x509 -new -key "$work/key.pem" -subj "/CN=fuzz" -days 3650 -out "$work/cert.pem" \
  -addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=clientAuth 2>/dev/null
seed() {
  local name=$1 selector=$2 pass=$3; shift 3
  openssl pkcs12 -export -inkey "$work/key.pem" -in "$work/cert.pem" -passout "pass:$pass" \
    -iter 16 -out "$work/$name.p12" "$@"
  { printf "\\x$selector"; cat "$work/$name.p12"; } > "$out/$name"
}
seed default 00 fuzz
seed legacy 00 fuzz -legacy
seed nomac 00 fuzz -nomac
seed rc4 00 fuzz -legacy -keypbe PBE-SHA1-RC4-128 -certpbe PBE-SHA1-RC4-40
seed md5des 00 fuzz -legacy -keypbe PBE-MD5-DES -certpbe NONE
seed aes128-sha512 00 fuzz -keypbe AES-128-CBC -macalg sha512
seed empty-password 01 ""
printf '\x00' > "$out/empty"
printf '\x00\xfe\xed\xfe\xed\x00\x00\x00\x02' > "$out/jks-magic"
printf '\x00\x30\x80\x02\x01\x03\x30\x80\x00\x00\x00\x00' > "$out/ber-skeleton"
ls "$out" | wc -l | xargs echo "seeds:"
