//! The records and keys kept in the store (the layout is in the [module docs](super)).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::CertificateRequest;
use crate::store::segment;

/// What is kept under `certificate-requests/{a}/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StoredRequest {
    #[serde(flatten)]
    pub(super) request: CertificateRequest,
    /// Unix seconds at which a completion marked the request as its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) completing_since: Option<i64>,
}

/// What is kept under `certificate-request-keys/{a}/{id}`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StoredKey {
    pub(super) private_key_pkcs8: Zeroizing<String>,
    /// Unix seconds of the write, so a sweep never takes the key of a create in flight.
    #[serde(default)]
    pub(super) stored_at: i64,
}

pub(super) const RECORDS: &str = "certificate-requests";

pub(super) const KEYS: &str = "certificate-request-keys";

pub(super) fn record_key(account: &str, id: u64) -> String {
    format!("{RECORDS}/{}/{id}", segment(account))
}

pub(super) fn key_key(account: &str, id: u64) -> String {
    format!("{KEYS}/{}/{id}", segment(account))
}
