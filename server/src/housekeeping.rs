//! Background upkeep of one gateway process, started once by `main` after the state is built:
//! the lease that lets other instances tell this process's claims from a crashed one's
//! ([`claim::keep_lease`]), and a sweep of what crashed requests left in the store
//! ([`CertificateService::sweep_orphan_secrets`], `CertificateRequestService::sweep_orphan_keys`)
//! at start and every [`SWEEP_EVERY`], and the certificate expiry gauge's walk of the store
//! ([`CertificateService::refresh_expiry`]) at start and every [`EXPIRY_REFRESH_EVERY`].

use std::sync::Arc;
use std::time::Duration;

use crate::certificate_requests::CertificateRequestService;
use crate::certificates::CertificateService;
use crate::store::{claim, Store};

/// How often left-overs are swept after the sweep at start.
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// How often the expiry gauge is rebuilt from the store. Changes made through this instance
/// reach the gauge at once; this catches other instances' changes and the passing days, which
/// the gauge computes at scrape time anyway. One list per account and one read per
/// certificate, so not at every scrape.
pub const EXPIRY_REFRESH_EVERY: Duration = Duration::from_secs(300);

/// Renews this process's lease (once now, then in the background) and starts the sweeps.
pub async fn start(store: Arc<dyn Store>, certificates: Arc<CertificateService>) {
    claim::keep_lease(store.clone()).await;
    let requests = CertificateRequestService::new(store, certificates.clone());
    let refresher = certificates.clone();
    tokio::spawn(async move {
        loop {
            if let Err(error) = refresher.refresh_expiry().await {
                tracing::warn!(%error, "could not refresh the certificate expiry gauge");
            }
            tokio::time::sleep(EXPIRY_REFRESH_EVERY).await;
        }
    });
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
