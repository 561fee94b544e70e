//! The claim protocol over the in-memory store: which claims are respected and which are taken
//! over (the end-to-end proof on OpenBao and the embedded store is `tests/crash_leftovers.rs`).

use serde_json::{json, Value};

use super::*;
use crate::store::memory::MemoryStore;

const KEY: &str = "names/x";

async fn unused(_: u64) -> Result<bool, StoreError> {
    Ok(false)
}

async fn used(_: u64) -> Result<bool, StoreError> {
    Ok(true)
}

fn left_by(owner: Option<&str>, age: i64) -> Value {
    let mut claim = json!({"id": 7, "claimedAt": clock::now_unix() - age});
    if let Some(owner) = owner {
        claim["owner"] = json!(owner);
    }
    claim
}

async fn lease(store: &MemoryStore, owner: &str, age: i64) {
    let value = json!({"renewedAt": clock::now_unix() - age});
    store.write(&format!("{INSTANCES}/{owner}"), &value, Expect::Any).await.unwrap();
}

/// A claim whose owner has no lease (it crashed, or its lease was dropped at a restart of the
/// exclusive store) is taken over at once; it used to block the name for 60 s.
#[tokio::test]
async fn a_claim_of_a_process_without_lease_is_taken_over_at_once() {
    let store = MemoryStore::default();
    store.write(KEY, &left_by(Some("0badc0de"), 0), Expect::Absent).await.unwrap();
    assert!(claim(&store, KEY, 9, unused).await.unwrap());
    assert_eq!(claimed_id(&store, KEY).await.unwrap(), Some(9));
}

#[tokio::test]
async fn a_claim_of_a_process_whose_lease_expired_is_taken_over() {
    let store = MemoryStore::default();
    lease(&store, "0badc0de", lease_seconds()).await;
    store.write(KEY, &left_by(Some("0badc0de"), 0), Expect::Absent).await.unwrap();
    assert!(claim(&store, KEY, 9, unused).await.unwrap());
}

#[tokio::test]
async fn an_in_flight_claim_of_a_live_process_is_respected() {
    let store = MemoryStore::default();
    lease(&store, "a11ce", 1).await;
    store.write(KEY, &left_by(Some("a11ce"), 0), Expect::Absent).await.unwrap();
    assert!(!claim(&store, KEY, 9, unused).await.unwrap());
    // Past the grace period even a live process's claim without its record is abandoned.
    store.write(KEY, &left_by(Some("a11ce"), grace_seconds()), Expect::Any).await.unwrap();
    assert!(claim(&store, KEY, 9, unused).await.unwrap());
}

#[tokio::test]
async fn claims_without_owner_or_of_this_process_wait_for_the_grace_period() {
    let store = MemoryStore::default();
    for owner in [None, Some(this_process()), Some("../not-a-process")] {
        store.write(KEY, &left_by(owner, 0), Expect::Any).await.unwrap();
        assert!(!claim(&store, KEY, 9, unused).await.unwrap(), "{owner:?}");
        store.write(KEY, &left_by(owner, grace_seconds()), Expect::Any).await.unwrap();
        assert!(claim(&store, KEY, 9, unused).await.unwrap(), "{owner:?}");
    }
}

#[tokio::test]
async fn a_claim_whose_record_uses_it_is_never_taken_over() {
    let store = MemoryStore::default();
    store.write(KEY, &left_by(Some("0badc0de"), grace_seconds() * 10), Expect::Absent).await.unwrap();
    assert!(!claim(&store, KEY, 9, used).await.unwrap());
    assert!(holder::<StoreError, _, _>(&store, KEY, 0, used).await.unwrap().taken);
    release(&store, KEY, 9).await;
    assert_eq!(claimed_id(&store, KEY).await.unwrap(), Some(7), "only the holder releases");
    release(&store, KEY, 7).await;
    assert_eq!(claimed_id(&store, KEY).await.unwrap(), None);
}
