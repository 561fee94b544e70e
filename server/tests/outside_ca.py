"""An outside certificate authority made with pyca/cryptography, for the certificate-request tests
(server/tests/certificate_requests.rs): the gateway's CSR is signed by software that shares no
code with it, as a brand's CA would.

    outside_ca.py init DIR                     makes DIR/ca.key and DIR/ca.pem (P-256, CN=Outside Brand CA)
    outside_ca.py sign DIR CSR_FILE DAYS EKU   prints the issued leaf PEM, then the CA PEM

The leaf copies the CSR's subject and public key (the CSR's signature is checked first), with
keyUsage digitalSignature (critical) and extendedKeyUsage EKU (`clientAuth` or `serverAuth`).
"""

import datetime
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def init(directory: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Outside Brand CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    (directory / "ca.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (directory / "ca.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def sign(directory: Path, csr_file: Path, days: int, eku: str) -> None:
    key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    ca_pem = (directory / "ca.pem").read_bytes()
    ca = x509.load_pem_x509_certificate(ca_pem)
    csr = x509.load_pem_x509_csr(csr_file.read_bytes())
    assert csr.is_signature_valid, "the CSR's signature does not verify"
    usage = {"clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH, "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH}[eku]
    now = datetime.datetime.now(datetime.timezone.utc)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    sys.stdout.write(leaf.public_bytes(serialization.Encoding.PEM).decode())
    sys.stdout.write(ca_pem.decode())


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "init":
        init(Path(sys.argv[2]))
    elif command == "sign":
        sign(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(f"unknown command {command!r}; expected init or sign")
