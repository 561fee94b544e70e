//! HTTPS for the gateway's own listener: a rustls `ServerConfig` (ring provider) from the PEM
//! files of `MTLS_TLS_CERT` and `MTLS_TLS_KEY`.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Installs ring as the process-wide rustls provider. Several crates (vaultrs, reqwest) are
/// built with `rustls-no-provider`, so without this the first TLS client or server panics.
/// Idempotent.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds the server configuration from a PEM certificate chain (leaf first) and a PEM private
/// key (PKCS#8, PKCS#1 or SEC1). HTTP/1.1 and HTTP/2 are offered through ALPN.
///
/// # Errors
/// A message naming the variable whose file is unusable (never the key material).
pub fn server_config(cert_path: &Path, key_path: &Path) -> Result<rustls::ServerConfig, String> {
    install_crypto_provider();
    let cert_pem = std::fs::read(cert_path)
        .map_err(|e| format!("MTLS_TLS_CERT: cannot read {}: {e}", cert_path.display()))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("MTLS_TLS_CERT: {} is not PEM certificates: {e}", cert_path.display()))?;
    if chain.is_empty() {
        return Err(format!("MTLS_TLS_CERT: no certificate in {}", cert_path.display()));
    }
    let key_pem = zeroize::Zeroizing::new(
        std::fs::read(key_path).map_err(|e| format!("MTLS_TLS_KEY: cannot read {}: {e}", key_path.display()))?,
    );
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| format!("MTLS_TLS_KEY: no PEM private key in {}", key_path.display()))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("MTLS_TLS_KEY: the key does not fit MTLS_TLS_CERT: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
