//! Runtime cache over the in-memory store with a switchable outage.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::mappings::fakes::World;
use crate::mappings::MappingService;

struct Fixture {
    world: World,
    mappings: MappingService,
    cache: RuntimeCache,
    metrics: Arc<Metrics>,
}

fn fixture(ttl: Duration) -> Fixture {
    let world = World::new();
    world.certificates.add("acc", 11, CertificateStatus::Available);
    world.certificates.add("acc", 12, CertificateStatus::Expired);
    let metrics: Arc<Metrics> = Arc::default();
    let cache = RuntimeCache::new(
        ReadCounter::wrap(world.store.clone(), metrics.clone()),
        world.certificates.clone(),
        &World::services(),
        ttl,
        metrics.clone(),
    );
    let mappings = world.mappings();
    Fixture { world, mappings, cache, metrics }
}

impl Fixture {
    async fn map(&self, name: &str, service: u32, url: &str, certificate: u64, enable: bool) -> u64 {
        let item = json!([{"name": name, "serviceId": service, "url": url,
                           "certificationId": certificate, "enable": enable}]);
        let created = self.mappings.create("acc", &item).await.unwrap();
        self.cache.invalidate_mappings("acc");
        created[0].id
    }

    async fn find(&self, service: Option<u32>, url: &str) -> Option<u64> {
        self.cache.find("acc", service, url).await.unwrap().map(|m| m.mapping_id)
    }

    fn count(&self, result: &'static str) -> u64 {
        self.metrics.runtime_cache.value(result)
    }

    fn set_down(&self, down: bool) {
        self.world.store.down.store(down, Ordering::SeqCst);
        self.world.certificates.down.store(down, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_miss_reads_a_constant_number_of_keys_then_hits() {
    let f = fixture(Duration::from_secs(300));
    for i in 0..50 {
        f.map(&format!("m{i}"), 1, &format!("https://a.com/{i}"), 11, true).await;
    }
    let id = f.map("target", 1, "https://t.com/", 11, true).await;
    let before = f.world.store.reads();
    let found = f.cache.find("acc", Some(1), "https://t.com/").await.unwrap().unwrap();
    assert_eq!((found.mapping_id, found.material.certificate_id), (id, 11));
    // Route key and record from the store (the fake certificates read nothing).
    assert_eq!(f.world.store.reads() - before, 2);
    assert_eq!(f.metrics.runtime_store_reads.get(), 2);
    assert_eq!(f.find(Some(1), "https://none.com/").await, None);
    assert_eq!(f.metrics.runtime_store_reads.get(), 3, "no route: one read");
    assert_eq!(f.find(Some(1), "https://t.com/").await, Some(id));
    assert_eq!(f.world.store.reads() - before, 3, "a hit reads nothing");
    assert_eq!(f.metrics.runtime_store_reads.get(), 3);
    assert_eq!((f.count("hit"), f.count("miss")), (1, 2));
}

#[tokio::test]
async fn no_mapping_is_cached_too() {
    let f = fixture(Duration::from_secs(300));
    assert_eq!(f.find(Some(1), "https://none.com/").await, None);
    let reads = f.world.store.reads();
    assert_eq!(f.find(Some(1), "https://none.com/").await, None);
    assert_eq!(f.world.store.reads(), reads);
    assert_eq!(f.count("hit"), 1);
}

#[tokio::test]
async fn invalidation_makes_changes_visible_at_once() {
    let f = fixture(Duration::from_secs(300));
    assert_eq!(f.find(Some(1), "https://a.com/").await, None);
    let id = f.map("a", 1, "https://a.com/", 11, true).await;
    assert_eq!(f.find(Some(1), "https://a.com/").await, Some(id));
    f.mappings.update("acc", id, &json!({"enable": false}), None).await.unwrap();
    assert_eq!(f.find(Some(1), "https://a.com/").await, Some(id), "not invalidated yet: cached");
    f.cache.invalidate_mappings("acc");
    assert_eq!(f.find(Some(1), "https://a.com/").await, None);
    f.mappings.update("acc", id, &json!({"enable": true}), None).await.unwrap();
    f.cache.invalidate_certificate("acc", 11);
    assert_eq!(f.find(Some(1), "https://a.com/").await, Some(id));
    f.cache.invalidate_mappings("someone-else");
    assert_eq!(f.cache.len(), 1, "other accounts' invalidations keep this account's entries");
}

// Paused clock: `sleep` steps time exactly, so the TTL is crossed when the test says.
#[tokio::test(start_paused = true)]
async fn entries_expire_after_the_ttl() {
    let f = fixture(Duration::from_millis(100));
    assert_eq!(f.find(Some(1), "https://a.com/").await, None);
    // Written behind the cache's back, as another instance would.
    f.mappings.create("acc", &json!([{"name": "a", "serviceId": 1, "url": "https://a.com/", "certificationId": 11}])).await.unwrap();
    assert_eq!(f.find(Some(1), "https://a.com/").await, None);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(f.find(Some(1), "https://a.com/").await.is_some());
}

// Paused clock: `sleep` steps time exactly, so the TTL is crossed when the test says.
#[tokio::test(start_paused = true)]
async fn stale_entries_are_served_while_the_store_is_down() {
    let f = fixture(Duration::from_millis(50));
    let id = f.map("a", 1, "https://a.com/", 11, true).await;
    assert_eq!(f.find(Some(1), "https://a.com/").await, Some(id));
    assert_eq!(f.find(Some(1), "https://none.com/").await, None);
    tokio::time::sleep(Duration::from_millis(80)).await;
    f.set_down(true);
    assert_eq!(f.find(Some(1), "https://a.com/").await, Some(id));
    assert_eq!(f.find(Some(1), "https://none.com/").await, None);
    assert_eq!(f.find(Some(1), "https://a.com/").await, Some(id), "served again without waiting");
    assert_eq!(f.count("stale"), 3);
    let fresh = crate::http::error::ApiError::from(f.cache.find("acc", Some(2), "https://a.com/").await.unwrap_err());
    assert_eq!((fresh.status.as_u16(), fresh.code.as_str()), (503, "store_unavailable"));
    f.set_down(false);
    let fresh = f.cache.find("acc", Some(2), "https://a.com/").await.unwrap();
    assert!(fresh.is_none());
}

/// A change on this instance used to drop the account's entries, so an outage right after it
/// answered 503 for every lookup of the account (SPEC section 7: the runtime keeps serving what
/// it has cached).
#[tokio::test]
async fn invalidated_entries_are_served_while_the_store_is_down() {
    let f = fixture(Duration::from_secs(300));
    let id = f.map("a", 1, "https://a.com/", 11, true).await;
    assert_eq!(f.find(Some(1), "https://a.com/").await, Some(id));
    assert_eq!(f.find(Some(1), "https://none.com/").await, None);
    f.map("b", 1, "https://b.com/", 11, true).await; // a change: the account is invalidated
    f.set_down(true);
    assert_eq!(f.find(Some(1), "https://a.com/").await, Some(id));
    assert_eq!(f.find(Some(1), "https://none.com/").await, None);
    assert_eq!(f.count("stale"), 2);
    f.set_down(false);
    f.mappings.update("acc", id, &json!({"enable": false}), None).await.unwrap();
    f.cache.invalidate_mappings("acc");
    assert_eq!(f.find(Some(1), "https://a.com/").await, None, "the store answers: the change shows");
    assert_eq!(f.count("stale"), 2);
}

/// After an outage, a change made here shows at once even within [`STORE_RETRY_AFTER`] of the
/// last failed lookup: the invalidated entry must not be served as a stale answer.
#[tokio::test]
async fn a_change_after_an_outage_shows_at_once() {
    let f = fixture(Duration::from_secs(300));
    let id = f.map("a", 1, "https://a.com/", 11, true).await;
    assert_eq!(f.find(Some(1), "https://a.com/").await, Some(id));
    f.set_down(true);
    assert!(f.cache.find("acc", Some(1), "https://never.com/").await.is_err());
    f.set_down(false);
    f.mappings.update("acc", id, &json!({"enable": false}), None).await.unwrap();
    f.cache.invalidate_mappings("acc");
    assert_eq!(f.find(Some(1), "https://a.com/").await, None);
    assert_eq!(f.count("stale"), 0);
}

#[tokio::test]
async fn only_enabled_mappings_with_available_certificates_match() {
    let f = fixture(Duration::from_secs(300));
    f.map("off", 1, "https://off.com/", 11, false).await;
    f.map("expired", 1, "https://expired.com/", 12, true).await;
    f.map("gone", 1, "https://gone.com/", 11, true).await;
    assert_eq!(f.find(Some(1), "https://off.com/").await, None);
    assert_eq!(f.find(Some(1), "https://expired.com/").await, None);
    assert_eq!(f.find(Some(2), "https://gone.com/").await, None, "another service");
    assert!(f.cache.find("other", Some(1), "https://gone.com/").await.unwrap().is_none());
}

#[tokio::test]
async fn without_a_service_the_url_must_be_unambiguous() {
    let f = fixture(Duration::from_secs(300));
    let one = f.map("one", 1, "https://one.com/", 11, true).await;
    f.map("one-off", 2, "https://one.com/", 11, false).await;
    f.map("two-a", 1, "https://two.com/", 11, true).await;
    f.map("two-b", 3, "https://two.com/", 11, true).await;
    assert_eq!(f.find(None, "https://one.com/").await, Some(one));
    assert_eq!(f.find(None, "https://two.com/").await, None);
    assert_eq!(f.find(None, "https://three.com/").await, None);
}

#[tokio::test]
async fn memory_is_bounded() {
    let f = fixture(Duration::from_secs(300));
    let cache = RuntimeCache::new(
        f.world.store.clone(),
        f.world.certificates.clone(),
        &World::services(),
        Duration::from_secs(300),
        f.metrics.clone(),
    )
    .with_capacity(3);
    for round in 0..3 {
        for i in 0..10 {
            cache.find("acc", Some(1), &format!("https://{i}.com/")).await.unwrap();
        }
        cache.invalidate_mappings(if round == 1 { "acc" } else { "x" });
    }
    assert_eq!(cache.len(), 3);
    // First in, first out: in round 1 every key was evicted before its turn came again.
    // Invalidated entries stay (as outage fallbacks) until evicted like any other.
    assert_eq!(f.metrics.runtime_evictions.get(), 7 + 10 + 10);
    assert!(cache.lock().order.len() <= 2 * 3 + 64);
    // The newest entries stay.
    let reads = f.world.store.reads();
    cache.find("acc", Some(1), "https://9.com/").await.unwrap();
    assert_eq!(f.world.store.reads(), reads);
    let long = format!("https://a.com/{}", "x".repeat(MAX_URL_BYTES));
    assert!(cache.find("acc", Some(1), &long).await.unwrap().is_none());
    assert_eq!(f.world.store.reads(), reads, "an over-long URL is not looked up");
}

#[tokio::test]
async fn a_lookup_racing_an_invalidation_does_not_store_old_data() {
    let f = fixture(Duration::from_secs(300));
    let id = f.map("a", 1, "https://a.com/", 11, true).await;
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    *f.world.store.gate.lock().unwrap() = Some(gate.clone());
    // The lookup reads the store (held at the gate) while a change is invalidated.
    let lookup = f.cache.find("acc", Some(1), "https://a.com/");
    let change = async {
        tokio::task::yield_now().await;
        f.cache.invalidate_mappings("acc");
        gate.add_permits(10);
    };
    let (found, ()) = tokio::join!(lookup, change);
    assert_eq!(found.unwrap().map(|m| m.mapping_id), Some(id));
    assert!(f.cache.is_empty(), "a fill that began before the invalidation is not kept");
    *f.world.store.gate.lock().unwrap() = None;
    f.find(Some(1), "https://a.com/").await;
    assert_eq!(f.cache.len(), 1);
}

#[tokio::test]
async fn concurrent_misses_of_one_key_share_one_load() {
    let f = fixture(Duration::from_secs(300));
    let id = f.map("a", 1, "https://a.com/", 11, true).await;
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    *f.world.store.gate.lock().unwrap() = Some(gate.clone());
    let before = f.metrics.runtime_store_reads.get();
    let lookups = futures_util::future::join_all((0..20).map(|_| f.cache.find("acc", Some(1), "https://a.com/")));
    let open = async {
        tokio::task::yield_now().await;
        gate.add_permits(100);
    };
    let (found, ()) = tokio::join!(lookups, open);
    for answer in found {
        assert_eq!(answer.unwrap().map(|m| m.mapping_id), Some(id));
    }
    assert_eq!(f.metrics.runtime_store_reads.get() - before, 2, "one load (route key, record) for 20 misses");
    assert_eq!(f.cache.len(), 1);
    *f.world.store.gate.lock().unwrap() = None;
    assert_eq!(f.find(Some(1), "https://a.com/").await, Some(id));
    assert_eq!(f.metrics.runtime_store_reads.get() - before, 2, "then a hit");
}

#[tokio::test]
async fn a_miss_after_an_invalidation_does_not_join_an_older_load() {
    let f = fixture(Duration::from_secs(300));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    *f.world.store.gate.lock().unwrap() = Some(gate.clone());
    let before = f.metrics.runtime_store_reads.get();
    let older = f.cache.find("acc", Some(1), "https://none.com/");
    let newer = async {
        tokio::task::yield_now().await; // the older lookup is now waiting at the gate
        f.cache.invalidate_mappings("acc");
        let newer = f.cache.find("acc", Some(1), "https://none.com/");
        let open = async {
            tokio::task::yield_now().await;
            gate.add_permits(100);
        };
        tokio::join!(newer, open).0
    };
    let (older, newer) = tokio::join!(older, newer);
    assert!(older.unwrap().is_none() && newer.unwrap().is_none());
    assert_eq!(f.metrics.runtime_store_reads.get() - before, 2, "two loads of one read each");
    assert_eq!(f.cache.len(), 1, "only the newer load's answer is kept");
}
