//! Runtime cache (SPEC section 7): forward and check-mapping read mappings and certificates
//! through it. TTL, immediate invalidation on this instance, O(1) store reads per miss, stale
//! entries served while the store is down, bounded memory.
//!
//! Skeleton: the interface other modules rely on. Implemented by issue 4.

use std::sync::Arc;

use crate::certificates::ClientMaterial;
use crate::error::ApiError;

/// The mapping a runtime request resolved to.
#[derive(Debug, Clone)]
pub struct RuntimeMatch {
    /// Mapping id.
    pub mapping_id: u64,
    /// The certificate to present, with its version.
    pub material: Arc<ClientMaterial>,
}

/// Cached lookups for forwarding and checks.
#[derive(Default)]
pub struct RuntimeCache {}

impl RuntimeCache {
    /// The enabled mapping of `account` for `service` (code) and the normalised `url`, with an
    /// Available certificate. Without a service, the one enabled mapping for (account, url) when
    /// exactly one exists.
    ///
    /// # Errors
    /// 503 when the store is down and nothing is cached.
    pub async fn find(
        &self,
        account: &str,
        service: Option<u32>,
        normalized_url: &str,
    ) -> Result<Option<RuntimeMatch>, ApiError> {
        let _ = (account, service, normalized_url);
        Ok(None)
    }

    /// Forgets everything cached about certificate `id` of `account` (replaced or deleted).
    pub fn invalidate_certificate(&self, account: &str, id: u64) {
        let _ = (account, id);
    }

    /// Forgets everything cached about mappings of `account`.
    pub fn invalidate_mappings(&self, account: &str) {
        let _ = account;
    }
}
