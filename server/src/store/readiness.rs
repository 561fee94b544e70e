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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use actix_web::{App, test, web};
    use async_trait::async_trait;
    use serde_json::Value;

    use super::*;
    use crate::config::Config;
    use crate::state::AppState;
    use crate::store::memory::MemoryStore;
    use crate::store::{Expect, Versioned};

    /// A memory store whose pings are counted, take a few scheduler turns (so concurrent
    /// callers really overlap one), and fail while `down` is set.
    #[derive(Default)]
    struct PingCounter {
        inner: MemoryStore,
        pings: AtomicUsize,
        down: AtomicBool,
    }

    #[async_trait]
    impl Store for PingCounter {
        async fn read(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
            self.inner.read(key).await
        }
        async fn write(&self, key: &str, value: &Value, expect: Expect) -> Result<u64, StoreError> {
            self.inner.write(key, value, expect).await
        }
        async fn delete(&self, key: &str) -> Result<(), StoreError> {
            self.inner.delete(key).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
            self.inner.list(prefix).await
        }
        async fn ping(&self) -> Result<(), StoreError> {
            self.pings.fetch_add(1, Ordering::SeqCst);
            for _ in 0..5 {
                tokio::task::yield_now().await;
            }
            if self.down.load(Ordering::SeqCst) {
                return Err(StoreError::Unavailable("test store is down".into()));
            }
            Ok(())
        }
    }

    fn app_state(store: Arc<PingCounter>, interval: Duration) -> web::Data<AppState> {
        let mut state = AppState::new(Config::for_tests(std::env::temp_dir()), store);
        state.readiness = ReadinessProbe::new(interval);
        web::Data::new(state)
    }

    macro_rules! app {
        ($state:expr) => {
            test::init_service(
                App::new()
                    .app_data($state.clone())
                    .configure(crate::http::configure),
            )
            .await
        };
    }

    async fn readyz_statuses(
        app: &impl actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
        calls: usize,
    ) -> Vec<u16> {
        let calls = (0..calls)
            .map(|_| test::call_service(app, test::TestRequest::get().uri("/readyz").to_request()));
        futures_util::future::join_all(calls)
            .await
            .iter()
            .map(|resp| resp.status().as_u16())
            .collect()
    }

    /// Twenty concurrent `/readyz` calls cost one store probe, even with no reuse interval.
    #[actix_web::test]
    async fn concurrent_readyz_calls_share_one_probe() {
        let store = Arc::new(PingCounter::default());
        let state = app_state(store.clone(), Duration::ZERO);
        let app = app!(state);
        assert_eq!(readyz_statuses(&app, 20).await, vec![200; 20]);
        assert_eq!(store.pings.load(Ordering::SeqCst), 1);
        // Without reuse, a later call probes again.
        assert_eq!(readyz_statuses(&app, 1).await, vec![200]);
        assert_eq!(store.pings.load(Ordering::SeqCst), 2);
    }

    /// Within the interval, calls one after the other reuse the probe, failures included.
    #[actix_web::test]
    async fn readyz_probes_the_store_at_most_once_per_interval() {
        let store = Arc::new(PingCounter::default());
        store.down.store(true, Ordering::SeqCst);
        let state = app_state(store.clone(), Duration::from_secs(3600));
        let app = app!(state);
        for _ in 0..10 {
            assert_eq!(readyz_statuses(&app, 1).await, vec![503]);
        }
        assert_eq!(store.pings.load(Ordering::SeqCst), 1);

        let store = Arc::new(PingCounter::default());
        let state = app_state(store.clone(), Duration::ZERO);
        let app = app!(state);
        store.down.store(true, Ordering::SeqCst);
        assert_eq!(readyz_statuses(&app, 1).await, vec![503]);
        store.down.store(false, Ordering::SeqCst);
        assert_eq!(readyz_statuses(&app, 1).await, vec![200]);
    }
}
