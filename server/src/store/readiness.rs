//! The store probe behind `GET /readyz`, shared by every caller.
//!
//! `/readyz` needs no credential and is never throttled, and a probe of the Vault store is a
//! real authenticated LIST: answered per call, anyone could turn it into load on Vault. So the
//! store is probed at most once per [`READINESS_INTERVAL`]; callers within it get the last
//! answer, and callers arriving while a probe runs wait for that probe instead of starting
//! another. A failed probe is remembered the same way, so an outage is not hammered either; a
//! change of the store's state shows on `/readyz` within one interval.

use std::time::{Duration, Instant};

use super::{Store, StoreError};

/// How long one probe's answer is reused: short against the seconds between a load balancer's
/// or orchestrator's checks, long against a flood of calls.
pub const READINESS_INTERVAL: Duration = Duration::from_secs(1);

/// The last probe of the store and the lock that lets one caller at a time renew it.
pub struct ReadinessProbe {
    interval: Duration,
    last: tokio::sync::Mutex<Option<Probe>>,
}

struct Probe {
    finished_at: Instant,
    result: Result<(), StoreError>,
}

impl ReadinessProbe {
    /// Probes reused for `interval` ([`READINESS_INTERVAL`] in production).
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether `store` answers, from a probe that finished after this call began or less than
    /// the interval ago, else from a new one.
    ///
    /// # Errors
    /// The probe's [`StoreError`] (503 `store_unavailable` to the caller).
    pub async fn check(&self, store: &dyn Store) -> Result<(), StoreError> {
        let asked_at = Instant::now();
        let mut last = self.last.lock().await;
        if let Some(probe) = last.as_ref()
            && (probe.finished_at >= asked_at || probe.finished_at.elapsed() < self.interval)
        {
            return probe.result.clone();
        }
        let result = store.ping().await;
        *last = Some(Probe {
            finished_at: Instant::now(),
            result: result.clone(),
        });
        result
    }
}

impl Default for ReadinessProbe {
    fn default() -> Self {
        Self::new(READINESS_INTERVAL)
    }
}
