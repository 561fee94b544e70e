//! `mtls-sdk`: every certificate rule of the mTLS gateway, in pure Rust with no I/O.
//!
//! The same code runs natively inside `mtls-server` and, compiled to WebAssembly, inside the npm
//! package `mtls-sdk` (browsers and Node). Nothing here reads files, opens sockets or reads the
//! clock: callers pass bytes, passwords and the current time.
//!
//! Entry points:
//! - [`inspect_p12`] decides whether a PKCS#12 file plus password is *usable* (SPEC section 2)
//!   and returns a [`P12Report`]; [`open_p12`] also hands back the decrypted key and chain;
//!   [`p12_iterations`] reads the KDF iteration counts a file declares without running a KDF.
//! - [`generate_csr`] makes a key and a PKCS#10 CSR for it; [`build_p12`] packs a key and the
//!   certificate chain a CA returned into a PKCS#12 file that the JDK and OpenSSL 3 read
//!   (profiles `modern`: PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC; `legacy`:
//!   pbeWithSHAAnd3-KeyTripleDES-CBC, HMAC-SHA1 MAC).
//!   Where the key lives elsewhere (WebCrypto), [`unsigned_csr`] encodes the same CSR up to its
//!   signature and [`UnsignedCsr::into_pem`] adds the signature the key's holder made.
//! - [`normalize_url`] is the URL normalisation used for storing mappings and every lookup.
//! - [`oauth1_authorization`] signs a request for the gateway's oAuth1 endpoints (RFC 5849); the
//!   npm package's `MtlsClient` uses it.
//!
//! PKCS#12 reading ([`inspect_p12`]): DER and BER (indefinite lengths, chunked OCTET STRINGs;
//! JKS, JCEKS, BouncyCastle BKS/UBER and BCFKS keystores are recognised and refused by name);
//! MAC HMAC-SHA-1/224/256/384/512/512-224/512-256 over the RFC 7292 KDF (an HMAC-MD5 MAC is
//! refused: Java does not read it); PBES2 with PBKDF2 (HMAC-SHA-1/224/256/384/512/512-224/512-256) and
//! AES-128/192/256-CBC, DES-EDE3-CBC, DES-CBC; PKCS#12 PBE with SHA-1 and 3DES, 2-key 3DES,
//! RC2-128/40, RC4-128/40; PBES1 MD5/SHA-1 with DES or RC2. Which of these a stock JDK 17
//! reads was measured, and only those make a file usable (`pfx::scheme` lists them). Passwords
//! go to the PKCS#12 KDF as BMPString and to PBKDF1/2 as UTF-8, as OpenSSL and the JDK derive
//! them; passwords that are not printable ASCII are refused, as the JDK refuses them. Tested
//! against files made at test time by OpenSSL 3, keytool and pyca/cryptography, each verdict
//! compared with the JDK's (`tests/jdk_agreement.rs`).
//!
//! Cargo feature `key-arithmetic` (default): key generation, signing and public keys derived
//! from private keys, with the RustCrypto crates ([`generate_csr`] needs it). The WebAssembly
//! modules are built without it and leave that arithmetic to WebCrypto.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod csr;
mod error;
pub mod oauth1;
mod oids;
mod p12_builder;
mod pem_bundle;
mod pfx;
mod policy;
mod private_key;
mod report;
mod rfc4514;
mod url_norm;
pub mod wire;
mod x509;

#[cfg(test)]
mod typescript;

#[cfg(target_arch = "wasm32")]
mod wasm;

#[cfg(feature = "key-arithmetic")]
pub use csr::{generate_csr, generate_csr_for_key};
pub use csr::{
    private_key_pem, unsigned_csr, validate_csr_request, CsrError, CsrRequest,
    CsrSignatureScheme, CsrSubject, GeneratedCsr, KeyType, UnsignedCsr,
    PRIVATE_KEY_PBKDF2_ITERATIONS,
};
pub use error::Error;
pub use oauth1::{oauth1_authorization, OAuth1Credentials, OAuth1SignatureMethod};
#[cfg(feature = "key-arithmetic")]
pub use p12_builder::build_p12;
pub use p12_builder::{
    start_p12_build, P12Build, P12BuildError, P12BuildRequest, P12Profile, PendingP12Build,
    P12_ITERATIONS,
};
pub use pfx::read::P12Iterations;
pub use policy::{
    p12_iterations, InspectOptions, P12Contents, DEFAULT_MAX_ITERATIONS, KDF_BUDGET_FACTOR,
};
#[cfg(feature = "key-arithmetic")]
pub use policy::{inspect_p12, open_p12};
// Inspection with the caller deriving public keys (the WebAssembly modules: no curve or bigint
// arithmetic in them).
pub use policy::{
    start_p12_inspection, FinishInspectionError, P12Inspection, PendingP12Inspection,
    PublicKeyDerivation,
};
pub use private_key::PrivateKeyError;
pub use report::{CertificateInfo, ContainerInfo, EncryptionInfo, Finding, KeyInfo, P12Report};
pub use url_norm::{normalize_url, parse_url, NormalizedUrl, UrlError};
