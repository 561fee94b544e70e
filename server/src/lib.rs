//! The mTLS gateway server, as a library so that tests reach every layer.
//!
//! Layers, top to bottom: `http` (parse, authorize, map errors) → domain services
//! (`certificates`, `mappings`, `runtime`, `forward`) → `store` (Vault, embedded) → the
//! forwarding client pool. One error type per layer; `http::error::ApiError` is the HTTP one.
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod audit;
mod auth;
mod certificate_requests;
pub mod certificates;
pub mod clock;
pub mod config;
mod forward;
#[cfg(any(test, feature = "test-support"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod housekeeping;
pub mod http;
pub mod mappings;
mod metrics;
pub mod runtime;
mod services;
mod settings;
pub mod state;
pub mod tls;
pub mod store;
pub mod throttle;
