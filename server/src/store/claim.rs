//! Create-only claims with takeover: the one uniqueness protocol of the services (certificate
//! names, mapping names and routes), built on [`Expect::Absent`] so two gateway instances racing
//! cannot both win (SPEC section 8).
//!
//! A claim is a key holding the id of the record that owns it ([`Claim`]). The claimant writes
//! it create-only, then writes its record. A crash in between leaves a claim whose record does
//! not use it. Such a claim is taken over with a versioned write once it is *abandoned*:
//! - its owner process is gone: every claim names the process that wrote it (a random id per
//!   start). On a store that one process owns exclusively (the embedded store), every process
//!   but this one is gone, so a restart takes over the crashed run's claims at once. On a
//!   shared store (Vault) every process keeps a lease `instances/{process}` renewed every
//!   [`LEASE_RENEW_EVERY`] ([`keep_lease`]); a lease absent or older than [`LEASE`] means the
//!   process stopped (crashed, or cannot reach the store and so can finish nothing);
//! - or it is older than [`CLAIM_GRACE`] (claims written without an owner: before the lease was
//!   first renewed, by older versions, or by this very process, which cannot tell its own
//!   in-flight claim from a forgotten one).
//!
//! On a shared store a process names itself in a claim only while its lease has at least half
//! of [`LEASE`] left, so an in-flight claim is never judged abandoned while its writer still
//! works. Clocks of instances must agree to well within [`LEASE`].

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Expect, Store, StoreError, Versioned};
use crate::clock;

/// How long a claim without a live owner and without its record is respected.
pub const CLAIM_GRACE: Duration = Duration::from_secs(60);
/// A process whose lease was not renewed for this long is gone.
pub const LEASE: Duration = Duration::from_secs(20);
/// How often a process renews its lease.
pub const LEASE_RENEW_EVERY: Duration = Duration::from_secs(5);

const INSTANCES: &str = "instances";

/// What a claim key holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    /// Id of the record that owns the key.
    pub id: u64,
    /// Unix seconds of the claim.
    pub claimed_at: i64,
    /// The process that wrote it, when it held a lease then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// Who holds a claim key, as seen by a claimant for record `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// Another live record, or an in-flight claim, holds it.
    pub taken: bool,
    /// Store version of the claim (for a takeover), `None` when the key is free.
    pub version: Option<u64>,
}

/// Reads who holds `key`: free, ours (`id`), taken, or abandoned (see the module docs).
/// `uses_key(holder id)` tells whether the holder's record exists and uses the key.
///
/// # Errors
/// The store's error, a corrupt claim, or `uses_key`'s error.
pub async fn holder<E, F, Fut>(store: &dyn Store, key: &str, id: u64, uses_key: F) -> Result<Holder, E>
where
    E: From<StoreError>,
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<bool, E>>,
{
    let Some(Versioned { value, version }) = store.read(key).await? else {
        return Ok(Holder { taken: false, version: None });
    };
    let claim = decode(value)?;
    if claim.id == id {
        return Ok(Holder { taken: false, version: Some(version) });
    }
    if uses_key(claim.id).await? {
        return Ok(Holder { taken: true, version: Some(version) });
    }
    let now = clock::now_unix();
    let old = now.saturating_sub(claim.claimed_at) >= grace_seconds();
    let abandoned = old || owner_gone(store, claim.owner.as_deref(), now).await?;
    Ok(Holder { taken: !abandoned, version: Some(version) })
}

/// Claims `key` for record `id`, or takes it over when abandoned; `false` when another record
/// or an in-flight claim holds it.
///
/// # Errors
/// The store's error (for example unavailable), or `uses_key`'s error.
pub async fn claim<E, F, Fut>(store: &dyn Store, key: &str, id: u64, uses_key: F) -> Result<bool, E>
where
    E: From<StoreError>,
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<bool, E>>,
{
    let entry = serde_json::to_value(Claim { id, claimed_at: clock::now_unix(), owner: lease_owner(store) })
        .map_err(|e| StoreError::Corrupt(format!("claim: {e}")))?;
    for _ in 0..4 {
        match store.write(key, &entry, Expect::Absent).await {
            Ok(_) => return Ok(true),
            Err(StoreError::Conflict) => {}
            Err(other) => return Err(other.into()),
        }
        let found = holder(store, key, id, &uses_key).await?;
        if found.taken {
            return Ok(false);
        }
        let Some(version) = found.version else { continue };
        match store.write(key, &entry, Expect::Version(version)).await {
            Ok(_) => return Ok(true),
            Err(StoreError::Conflict) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(false)
}

/// The record id a claim key names, `None` when the key is absent.
///
/// # Errors
/// The store's error, or a corrupt claim.
pub async fn claimed_id(store: &dyn Store, key: &str) -> Result<Option<u64>, StoreError> {
    match store.read(key).await? {
        Some(found) => Ok(Some(decode(found.value)?.id)),
        None => Ok(None),
    }
}

/// Deletes `key` when it still names record `id`. Failures are logged, not returned: a key left
/// behind is taken over later.
pub async fn release(store: &dyn Store, key: &str, id: u64) {
    match claimed_id(store, key).await {
        Ok(Some(held)) if held == id => {
            if let Err(error) = store.delete(key).await {
                tracing::warn!(%error, "could not release a claim; it is taken over later");
            }
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "could not release a claim; it is taken over later"),
    }
}

/// Keeps this process's lease on a shared store: renews it at once and then every
/// [`LEASE_RENEW_EVERY`] in the background, for as long as `store` lives elsewhere, and now and
/// then deletes leases long expired, so dead processes leave no trace. An exclusive store needs
/// no lease (see the module docs): nothing is written, leases of earlier versions are dropped.
pub async fn keep_lease(store: Arc<dyn Store>) {
    if store.is_exclusive() {
        drop_other_leases(store.as_ref(), |_| true).await;
        return;
    }
    let weak = Arc::downgrade(&store);
    drop(store);
    tokio::spawn(async move {
        let mut round: u64 = 0;
        loop {
            let Some(store) = weak.upgrade() else { return };
            renew(store.as_ref()).await;
            round += 1;
            if round.is_multiple_of(60) {
                let now = clock::now_unix();
                let expired = |renewed_at: i64| now.saturating_sub(renewed_at) > 10 * lease_seconds();
                drop_other_leases(store.as_ref(), expired).await;
            }
            drop(store);
            tokio::time::sleep(LEASE_RENEW_EVERY).await;
        }
    });
}

/// This process's id in claims and in its lease key.
pub fn this_process() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut bytes = [0u8; 16];
        // Without randomness the id still differs per start by time; uniqueness suffers only
        // when two processes start in the same nanosecond without a random source.
        if getrandom::fill(&mut bytes).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            bytes = nanos.to_le_bytes();
        }
        hex::encode(bytes)
    })
}

// === helpers ===

/// Unix seconds of the last successful renewal of this process's lease (0: never).
static RENEWED_AT: AtomicI64 = AtomicI64::new(0);

fn lease_owner(store: &dyn Store) -> Option<String> {
    if store.is_exclusive() {
        return Some(this_process().to_owned());
    }
    let renewed = RENEWED_AT.load(Ordering::SeqCst);
    let fresh = renewed > 0 && clock::now_unix().saturating_sub(renewed) < lease_seconds() / 2;
    fresh.then(|| this_process().to_owned())
}

async fn renew(store: &dyn Store) {
    let now = clock::now_unix();
    let key = format!("{INSTANCES}/{}", this_process());
    match store.write(&key, &json!({ "renewedAt": now }), Expect::Any).await {
        Ok(_) => RENEWED_AT.store(now, Ordering::SeqCst),
        Err(error) => tracing::warn!(%error, "could not renew this instance's lease"),
    }
}

async fn owner_gone(store: &dyn Store, owner: Option<&str>, now: i64) -> Result<bool, StoreError> {
    // Only a process id (hex) names a lease key; anything else falls back to the grace period.
    let Some(owner) = owner.filter(|o| *o != this_process() && is_process_id(o)) else {
        return Ok(false);
    };
    if store.is_exclusive() {
        return Ok(true);
    }
    match store.read(&format!("{INSTANCES}/{owner}")).await? {
        None => Ok(true),
        Some(found) => {
            let renewed_at = found.value.get("renewedAt").and_then(serde_json::Value::as_i64).unwrap_or(0);
            Ok(now.saturating_sub(renewed_at) >= lease_seconds())
        }
    }
}

async fn drop_other_leases(store: &dyn Store, expired: impl Fn(i64) -> bool) {
    let names = match store.list(INSTANCES).await {
        Ok(names) => names,
        Err(error) => {
            tracing::warn!(%error, "could not list instance leases");
            return;
        }
    };
    for name in names.iter().filter(|n| !n.ends_with('/') && *n != this_process()) {
        let key = format!("{INSTANCES}/{name}");
        let renewed_at = match store.read(&key).await {
            Ok(Some(found)) => found.value.get("renewedAt").and_then(serde_json::Value::as_i64).unwrap_or(0),
            Ok(None) => continue,
            Err(_) => return,
        };
        if expired(renewed_at) && let Err(error) = store.delete(&key).await {
            tracing::warn!(%error, "could not delete an instance lease");
        }
    }
}

fn is_process_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn decode(value: serde_json::Value) -> Result<Claim, StoreError> {
    serde_json::from_value(value).map_err(|e| StoreError::Corrupt(format!("claim: {e}")))
}

fn grace_seconds() -> i64 {
    i64::try_from(CLAIM_GRACE.as_secs()).unwrap_or(i64::MAX)
}

fn lease_seconds() -> i64 {
    i64::try_from(LEASE.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
