//! `GET /readyz` over the shared store probe ([`crate::store::readiness`]): concurrent calls
//! share one probe, and a probe is reused for its interval, failures included.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{App, test, web};
use async_trait::async_trait;
use serde_json::Value;

use crate::config::Config;
use crate::state::AppState;
use crate::store::memory::MemoryStore;
use crate::store::readiness::ReadinessProbe;
use crate::store::{Expect, Store, StoreError, Versioned};

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
