//! The "usable" rules of SPEC section 2, one function per rule.

use crate::P12Report;

/// Default cap on MAC and PBKDF iteration counts (SPEC section 2, rule 7).
pub const DEFAULT_MAX_ITERATIONS: u64 = 1_000_000;

/// Inputs to [`inspect_p12`] besides the file and the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InspectOptions {
    /// The current time, seconds since the Unix epoch (the SDK reads no clock).
    pub now_unix: i64,
    /// Iteration cap for the MAC and every PBKDF; larger counts are refused before any KDF runs.
    pub max_iterations: u64,
}

impl InspectOptions {
    /// Options at time `now_unix` with the default iteration cap.
    pub fn at(now_unix: i64) -> Self {
        Self { now_unix, max_iterations: DEFAULT_MAX_ITERATIONS }
    }
}

/// The decrypted contents of a usable P12: what the server stores and presents in TLS.
#[derive(Clone)]
pub struct P12Contents {
    /// The private key as PKCS#8 `PrivateKeyInfo` DER.
    pub private_key_pkcs8: zeroize::Zeroizing<Vec<u8>>,
    /// The leaf certificate DER first, then the chain.
    pub certificate_chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for P12Contents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("P12Contents")
            .field("private_key_pkcs8", &"<redacted>")
            .field("certificate_chain", &self.certificate_chain.len())
            .finish()
    }
}

/// Decides whether `p12` opened with `password` is usable (SPEC section 2).
pub fn inspect_p12(p12: &[u8], password: &str, options: &InspectOptions) -> P12Report {
    open_p12(p12, password, options).0
}

/// Like [`inspect_p12`], and also returns the decrypted key and chain when the file is usable.
pub fn open_p12(
    p12: &[u8],
    password: &str,
    options: &InspectOptions,
) -> (P12Report, Option<P12Contents>) {
    let _ = (p12, password, options);
    todo!("issue 2: P12 inspection")
}
