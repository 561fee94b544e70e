//! The one conversion from binding errors to JS: every error thrown by the bindings is a real
//! `Error` named `MtlsError` with a stable snake_case `code` (the same codes the server uses) and
//! a lower-case message that never contains a password, key or file bytes; the package's entries
//! rethrow it as the client's `MtlsError` class.

use wasm_bindgen::prelude::*;

/// Why a binding refused its arguments or failed; each variant has one stable code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum BindingError {
    /// An argument has the wrong JS type or an out-of-range value; `argument` names it as the
    /// TypeScript signature does (`p12`, `options.now`, ...).
    #[error("invalid argument `{argument}`: expected {expected}")]
    InvalidArgument { argument: &'static str, expected: &'static str },
    /// The report could not be converted to a JS value (a bug, not bad input).
    #[error("could not convert the result to a JS value: {0}")]
    Conversion(String),
    /// An SDK function failed (only the csr module's functions return SDK errors; leaving the
    /// variant out of the inspector keeps their messages out of it).
    #[cfg(feature = "wasm-csr")]
    #[error(transparent)]
    Sdk(#[from] crate::Error),
    /// The JavaScript runtime could not derive the public key of a private key (WebCrypto or
    /// Node's `crypto` refused it), which matching it with its certificate needs; `key` is its
    /// type (`EC P-521`, `Ed25519`).
    #[cfg(any(feature = "wasm-inspector", feature = "wasm-csr"))]
    #[error(
        "this JavaScript runtime could not derive the public key of the {key} private key, which \
         checking it against the certificate needs"
    )]
    PublicKeyUnavailable { key: String },
    /// A WebCrypto call (`crypto.subtle`) rejected, for example an unsupported algorithm.
    #[cfg(feature = "wasm-csr")]
    #[error("WebCrypto {operation} failed")]
    WebCrypto { operation: &'static str },
    /// `globalThis.crypto.subtle` does not exist: a browser page that is not a secure context
    /// (https or localhost), or a JS runtime without WebCrypto.
    #[cfg(feature = "wasm-csr")]
    #[error(
        "WebCrypto (crypto.subtle) is not available: generateCsr needs a secure context (https \
         or localhost) in browsers, or Node 20 or later"
    )]
    WebCryptoUnavailable,
}

impl BindingError {
    /// The stable snake_case code, shared with the server's error codes where they overlap.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::InvalidArgument { .. } => "invalid_argument",
            Self::Conversion(_) => "internal_error",
            #[cfg(feature = "wasm-csr")]
            Self::Sdk(error) => error.code(),
            #[cfg(any(feature = "wasm-inspector", feature = "wasm-csr"))]
            Self::PublicKeyUnavailable { .. } => "public_key_unavailable",
            #[cfg(feature = "wasm-csr")]
            Self::WebCrypto { .. } => "webcrypto_failed",
            #[cfg(feature = "wasm-csr")]
            Self::WebCryptoUnavailable => "webcrypto_unavailable",
        }
    }
}

impl From<BindingError> for JsValue {
    fn from(error: BindingError) -> Self {
        let js_error = js_sys::Error::new(&error.to_string());
        // The package's entries (sdk/js/node, sdk/js/web) turn an `Error` of this name and a
        // `code` into the one error class the package throws, `MtlsError` (a class of the
        // client's, which WebAssembly does not construct).
        js_error.set_name("MtlsError");
        // Setting a property on a fresh Error object cannot fail (it is extensible and has no
        // setter for `code`); ignoring the Result keeps this conversion infallible.
        let _ = js_sys::Reflect::set(&js_error, &"code".into(), &error.code().into());
        js_error.into()
    }
}
