//! `mtls-sdk`: every certificate rule of the mTLS gateway, in pure Rust with no I/O.
//!
//! The same code runs natively inside `mtls-server` and, compiled to WebAssembly, inside the npm
//! package `mtls-sdk` (browsers and Node). Nothing here reads files, opens sockets or reads the
//! clock: callers pass bytes, passwords and the current time.
//!
//! Entry points:
//! - [`inspect_p12`] decides whether a PKCS#12 file plus password is *usable* (SPEC section 2)
//!   and returns a [`P12Report`]; [`open_p12`] also hands back the decrypted key and chain.
//! - [`normalize_url`] is the URL normalisation used for storing mappings and every lookup.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod error;
mod pfx;
mod policy;
mod private_key;
mod report;
mod url_norm;
mod x509;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::Error;
pub use policy::{inspect_p12, open_p12, InspectOptions, P12Contents, DEFAULT_MAX_ITERATIONS};
pub use report::{CertificateInfo, ContainerInfo, EncryptionInfo, Finding, KeyInfo, P12Report};
pub use url_norm::{normalize_url, UrlError};
