//! How every gateway instance learns of a staged rotation (or its cancellation) made through
//! another one, in time to switch within a second of `activateAt` (SPEC section 12) although
//! its runtime cache may hold the certificate for the whole TTL.
//!
//! The instance that stages or cancels appends a notice (the account) to one store key,
//! [`NOTICES_KEY`], keeping the last [`KEPT`] with a growing sequence number (check-and-set
//! writes, so racing instances never lose one). Every instance reads that key every
//! [`POLL_EVERY`] ([`spawn`]); each new notice invalidates the account in its runtime cache, whose
//! next lookup loads the staged version and its instant. An instance that missed more than
//! [`KEPT`] notices invalidates everything. One read per instance and poll, never a scan.
//!
//! With the embedded store only one process uses the data, so nothing is polled there.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::store::{Expect, Store, StoreError};

/// The store key of the notices.
pub const NOTICES_KEY: &str = "rotation-notices";
/// Notices kept: far more than are written between two polls.
pub const KEPT: usize = 64;
/// How often each instance reads the notices: a staging made right before its instant still
/// reaches every instance well within the second SPEC section 12 allows.
pub const POLL_EVERY: Duration = Duration::from_millis(250);

const PUBLISH_ATTEMPTS: usize = 8;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Notices {
    last: u64,
    notices: Vec<Notice>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Notice {
    seq: u64,
    account: String,
}

/// What a poll found.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// No new notice.
    Nothing,
    /// New notices for these accounts (each once).
    Accounts(Vec<String>),
    /// More notices than are kept arrived since the last poll: treat every account as changed.
    Everything,
}

/// Appends a notice for `account`.
///
/// # Errors
/// The store is unavailable, or other instances kept winning the check-and-set.
pub async fn publish(store: &dyn Store, account: &str) -> Result<(), StoreError> {
    for _ in 0..PUBLISH_ATTEMPTS {
        let (mut notices, expect) = match store.read(NOTICES_KEY).await? {
            Some(found) => (
                serde_json::from_value::<Notices>(found.value).unwrap_or_default(),
                Expect::Version(found.version),
            ),
            None => (Notices::default(), Expect::Absent),
        };
        notices.last += 1;
        notices.notices.push(Notice { seq: notices.last, account: account.to_owned() });
        let excess = notices.notices.len().saturating_sub(KEPT);
        notices.notices.drain(..excess);
        let value = serde_json::to_value(&notices).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        match store.write(NOTICES_KEY, &value, expect).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(StoreError::Conflict)
}

/// One instance's reader of the notices.
pub struct Watcher {
    store: Arc<dyn Store>,
    /// The last sequence number seen; `None` before the first successful poll.
    last: Option<u64>,
}

impl Watcher {
    /// A watcher that treats the notices present at its first poll as already seen.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store, last: None }
    }

    /// Reads the notices once.
    ///
    /// # Errors
    /// The store's error; the next poll starts from the same place.
    pub async fn poll(&mut self) -> Result<Seen, StoreError> {
        let notices = match self.store.read(NOTICES_KEY).await? {
            Some(found) => serde_json::from_value::<Notices>(found.value)
                .map_err(|_| StoreError::Corrupt(NOTICES_KEY.to_owned()))?,
            None => Notices::default(),
        };
        let Some(last) = self.last.replace(notices.last) else { return Ok(Seen::Nothing) };
        if notices.last <= last {
            return Ok(Seen::Nothing);
        }
        if notices.notices.first().is_none_or(|oldest| oldest.seq > last + 1) {
            return Ok(Seen::Everything);
        }
        let mut accounts: Vec<String> = Vec::new();
        for notice in notices.notices.into_iter().filter(|n| n.seq > last) {
            if !accounts.contains(&notice.account) {
                accounts.push(notice.account);
            }
        }
        Ok(Seen::Accounts(accounts))
    }
}

/// Polls the notices every [`POLL_EVERY`] for as long as the process runs and hands each
/// changed account to `changed` (`None`: every account). Nothing to do on an exclusive store.
pub fn spawn(store: Arc<dyn Store>, changed: impl Fn(Option<&str>) + Send + 'static) {
    if store.is_exclusive() {
        return;
    }
    let mut watcher = Watcher::new(store);
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            match watcher.poll().await {
                Ok(Seen::Nothing) => failing = false,
                Ok(Seen::Accounts(accounts)) => {
                    failing = false;
                    for account in &accounts {
                        changed(Some(account));
                    }
                }
                Ok(Seen::Everything) => {
                    failing = false;
                    changed(None);
                }
                Err(error) => {
                    if !failing {
                        tracing::warn!(%error, "could not read rotation notices; retrying");
                    }
                    failing = true;
                }
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn a_watcher_sees_each_new_account_once_and_nothing_from_before_it_started() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
        publish(store.as_ref(), "old").await.unwrap();
        let mut watcher = Watcher::new(store.clone());
        assert_eq!(watcher.poll().await.unwrap(), Seen::Nothing);
        publish(store.as_ref(), "a").await.unwrap();
        publish(store.as_ref(), "b").await.unwrap();
        publish(store.as_ref(), "a").await.unwrap();
        assert_eq!(watcher.poll().await.unwrap(), Seen::Accounts(vec!["a".into(), "b".into()]));
        assert_eq!(watcher.poll().await.unwrap(), Seen::Nothing);
    }

    #[tokio::test]
    async fn a_watcher_that_missed_more_than_is_kept_sees_everything() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
        let mut watcher = Watcher::new(store.clone());
        assert_eq!(watcher.poll().await.unwrap(), Seen::Nothing);
        for n in 0..=KEPT {
            publish(store.as_ref(), &format!("account-{n}")).await.unwrap();
        }
        assert_eq!(watcher.poll().await.unwrap(), Seen::Everything);
        let stored = store.read(NOTICES_KEY).await.unwrap().unwrap();
        assert_eq!(stored.value["notices"].as_array().unwrap().len(), KEPT);
    }
}
