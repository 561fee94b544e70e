"""pyca/cryptography column of the inspectP12 benchmark: time pkcs12.load_key_and_certificates.

Usage: python3 bench_pyca.py <file> <password> <runs>. Prints one JSON line like the native
column: {"runs": n, "meanMicros": m, "minMicros": m}. OpenSSL (inside the cryptography wheel)
verifies the MAC, decrypts every bag and parses key and certificates; it applies none of the
SPEC section 2 policy checks, so it is the floor for the cryptographic work alone.
"""

import json
import sys
import time

from cryptography.hazmat.primitives.serialization import pkcs12


def main() -> None:
    path, password, runs = sys.argv[1], sys.argv[2].encode(), max(1, int(sys.argv[3]))
    data = open(path, "rb").read()
    pkcs12.load_key_and_certificates(data, password)  # warm-up, as the other columns do
    total, best = 0.0, float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        pkcs12.load_key_and_certificates(data, password)
        micros = (time.perf_counter() - start) * 1e6
        total += micros
        best = min(best, micros)
    print(json.dumps({"runs": runs, "meanMicros": round(total / runs, 1), "minMicros": round(best, 1)}))


if __name__ == "__main__":
    main()
