"""Writes a P12 with pyca/cryptography (OpenSSL through Rust bindings), for the P12 tests.

Usage: pyca_p12.py OUT PASSWORD KEY_PEM --not-before UNIX --not-after UNIX
                   [--encryption best|aes-sha256|3des-sha1|none]
The certificate is self-signed (SHA-256, or pure EdDSA), subject CN=pyca, valid between the
given times: pyca can write certificates that are already expired or not yet valid.
"""
import argparse
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, ed448
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


def load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("password")
    parser.add_argument("key")
    parser.add_argument("--not-before", type=int, required=True)
    parser.add_argument("--not-after", type=int, required=True)
    parser.add_argument("--encryption", default="best")
    args = parser.parse_args()

    key = load_key(args.key)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pyca")])
    utc = datetime.timezone.utc
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime.fromtimestamp(args.not_before, utc))
        .not_valid_after(datetime.datetime.fromtimestamp(args.not_after, utc))
    )
    digest = None if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)) else hashes.SHA256()
    cert = builder.sign(key, digest)

    password = args.password.encode()
    if args.encryption == "none":
        encryption = serialization.NoEncryption()
    elif args.encryption == "best":
        encryption = serialization.BestAvailableEncryption(password)
    else:
        builder = serialization.PrivateFormat.PKCS12.encryption_builder()
        if args.encryption == "aes-sha256":
            builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256())
        elif args.encryption == "3des-sha1":
            builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(hashes.SHA1())
        else:
            raise SystemExit(f"unknown encryption {args.encryption}")
        encryption = builder.kdf_rounds(5000).build(password)
    data = pkcs12.serialize_key_and_certificates(b"pyca", key, cert, None, encryption)
    with open(args.out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
