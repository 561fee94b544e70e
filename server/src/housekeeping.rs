//! Background upkeep of one gateway process, started once by `main` after the state is built:
//! the lease that lets other instances tell this process's claims from a crashed one's
//! ([`claim::keep_lease`]), and a sweep of what crashed requests left in the store
//! ([`CertificateService::sweep_orphan_secrets`], [`CertificateRequestService::sweep_orphan_keys`])
//! at start and every [`SWEEP_EVERY`].

use std::sync::Arc;
use std::time::Duration;

use crate::certificate_requests::CertificateRequestService;
use crate::certificates::CertificateService;
use crate::store::{claim, Store};

/// How often left-overs are swept after the sweep at start.
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// Renews this process's lease (once now, then in the background) and starts the sweeps.
pub async fn start(store: Arc<dyn Store>, certificates: Arc<CertificateService>) {
    claim::keep_lease(store.clone()).await;
    let requests = CertificateRequestService::new(store, certificates.clone());
    tokio::spawn(async move {
        loop {
            match certificates.sweep_orphan_secrets().await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "swept certificate secrets left by crashed requests"),
                Err(error) => tracing::warn!(%error, "could not sweep left-over certificate secrets"),
            }
            match requests.sweep_orphan_keys().await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "swept certificate-request keys no pending request holds"),
                Err(error) => tracing::warn!(%error, "could not sweep left-over certificate-request keys"),
            }
            tokio::time::sleep(SWEEP_EVERY).await;
        }
    });
}
