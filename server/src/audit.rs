//! Audit trail (SPEC section 12): every change is recorded before it is acknowledged, as
//! `{id, at, account, actor: {scheme, subject}, action, resource: {type, id, name}, requestId}`,
//! never a secret; read newest first, paged, per account and across accounts.
//!
//! **Record first.** A change is recorded as intended *before* it is made ([`AuditLog::record`]);
//! when that write fails the change is not attempted and the caller gets an error, so no change
//! is ever made without its record. When the change itself then fails, its record is withdrawn
//! ([`AuditLog::withdraw`]); should that delete fail too, the trail keeps a record of a change
//! that did not happen, the only error it can make (over-recording, never under-recording). A
//! create learns its resource id only once made; [`AuditLog::complete`] adds it to the record,
//! and a failure there leaves the record with the name only (the change stands: it is on record).
//!
//! **Store layout**, on every store through the [`Store`] trait (no listing, ever):
//! - `audit/all/{n}`: every record, `n` = 1, 2, ... in order of recording (the admin trail).
//! - `audit/accounts/{a}/{n}`: the records of account `{a}` (hex [`segment`]), numbered per account.
//! - `audit/heads/all`, `audit/heads/{a}`: `{last}`, a hint of the highest number used.
//!
//! Appending claims the next number with a create-only write (two instances racing for one
//! number: one wins, the other takes the next), then raises the hint. Readers start at the hint
//! and probe forward to the true end (the hint may lag a crash or a racing writer), then read
//! downwards: a page of `limit` costs about `limit` reads, however long the trail. A withdrawn
//! record leaves a gap that readers skip. The cursor is the number to continue below, opaque
//! to callers.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock;
use crate::store::{Expect, Store, StoreError, segment};

/// Records per page when `limit` is not given.
pub(crate) const DEFAULT_LIMIT: usize = 50;
/// Largest `limit`.
pub(crate) const MAX_LIMIT: usize = 500;
/// Numbers a page may probe past gaps (withdrawn records) before it stops early with a cursor.
const MAX_GAP_READS: usize = 64;
/// Create-only attempts before an append gives up (each lost race moves one number on).
const MAX_APPEND_ATTEMPTS: usize = 32;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `bearer`, `oauth1` or `admin`.
    pub scheme: String,
    /// JWT `sub`, oAuth1 consumer key, or `admin`.
    pub subject: String,
}

/// What a change was made to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// `certificate`, `mapping`, `app_key`, `token`, `certificate_request`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id, as text; `None` until a create knows it (and for tokens, which have none).
    pub id: Option<String>,
    /// Its name, when it has one.
    pub name: Option<String>,
}

/// One record as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Unique, random.
    pub id: String,
    /// RFC 3339 UTC with milliseconds, when the change was recorded (just before it was made).
    pub at: String,
    /// The account changed; `None` for admin changes (app keys, tokens), which are in the
    /// admin trail only.
    pub account: Option<String>,
    /// Who.
    pub actor: Actor,
    /// `certificate.create`, `mapping.update`, ... (see `/openapi.json`).
    pub action: String,
    /// What.
    pub resource: Resource,
    /// The request id the gateway answered the change with (`X-Request-Id`).
    pub request_id: String,
}

/// A change about to be made, as the caller describes it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The account, or `None` for admin changes.
    pub account: Option<String>,
    /// Who.
    pub actor: Actor,
    /// What kind of change (`certificate.create`, ...).
    pub action: &'static str,
    /// What it is made to.
    pub resource: Resource,
    /// The request's id.
    pub request_id: String,
}

/// A record written by [`AuditLog::record`], to complete or withdraw.
#[derive(Debug, Clone)]
pub struct Recorded {
    record: AuditRecord,
    keys: Vec<String>,
}

impl Recorded {
    /// The record as written.
    pub fn record(&self) -> &AuditRecord {
        &self.record
    }
}

/// Why the trail could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The store failed; a change that needed the record was not made.
    #[error("audit trail unavailable: {0}")]
    Unavailable(StoreError),
    /// The cursor is not one this server gave out.
    #[error("the cursor is not one this server gave out")]
    BadCursor,
}

impl From<StoreError> for AuditError {
    fn from(error: StoreError) -> Self {
        Self::Unavailable(error)
    }
}

/// One page of a trail, newest first.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    /// The records.
    pub records: Vec<AuditRecord>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Which trail to read.
#[derive(Debug, Clone, Copy)]
pub enum Trail<'a> {
    /// Every record (`GET /admin/audit`).
    All,
    /// One account's (`GET /mtls/account/{a}/audit`).
    Account(&'a str),
}

/// The audit trail over the store.
pub struct AuditLog {
    store: Arc<dyn Store>,
}

impl AuditLog {
    /// A trail kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Records `change` as intended, in its account's trail and the admin trail. Call before
    /// making the change; make it only when this succeeded.
    ///
    /// # Errors
    /// [`AuditError::Unavailable`]: nothing is on record (a half-written record is removed).
    pub async fn record(&self, change: Change) -> Result<Recorded, AuditError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::Unavailable(format!("random source: {e}")))?;
        let record = AuditRecord {
            id: hex::encode(bytes),
            at: clock::format_rfc3339_millis(clock::now_unix_millis()),
            account: change.account,
            actor: change.actor,
            action: change.action.to_owned(),
            resource: change.resource,
            request_id: change.request_id,
        };
        let value = serde_json::to_value(&record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut keys = Vec::new();
        let chains = match &record.account {
            Some(account) => vec![Chain::account(account), Chain::all()],
            None => vec![Chain::all()],
        };
        for chain in chains {
            match chain.append(self.store.as_ref(), &value).await {
                Ok(key) => keys.push(key),
                Err(error) => {
                    self.remove(&keys).await;
                    return Err(error.into());
                }
            }
        }
        Ok(Recorded { record, keys })
    }

    /// Adds the resource id a create learned to its record. Best effort: the change is made
    /// and on record by name; a failure is logged.
    pub async fn complete(&self, recorded: &mut Recorded, resource_id: String) {
        recorded.record.resource.id = Some(resource_id);
        let Ok(value) = serde_json::to_value(&recorded.record) else { return };
        for key in &recorded.keys {
            if let Err(error) = self.store.write(key, &value, Expect::Any).await {
                tracing::warn!(%error, record = %recorded.record.id, "could not add the resource id to an audit record");
            }
        }
    }

    /// Removes the record of a change that was not made. Best effort (see the module docs).
    pub async fn withdraw(&self, recorded: Recorded) {
        self.remove(&recorded.keys).await;
    }

    /// Records of `trail`, newest first: at most `limit` (1 to [`MAX_LIMIT`]), none older
    /// than `since_millis`, continuing below `cursor`.
    ///
    /// # Errors
    /// [`AuditError::BadCursor`]; [`AuditError::Unavailable`].
    pub async fn page(
        &self,
        trail: Trail<'_>,
        since_millis: Option<i64>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, AuditError> {
        let chain = match trail {
            Trail::All => Chain::all(),
            Trail::Account(account) => Chain::account(account),
        };
        let store = self.store.as_ref();
        let mut next = match cursor {
            Some(cursor) => decode_cursor(cursor)?,
            None => chain.last(store).await?,
        };
        let limit = limit.clamp(1, MAX_LIMIT);
        let mut records = Vec::new();
        let mut gaps = 0;
        while next > 0 && records.len() < limit {
            let Some(found) = store.read(&chain.entry(next)).await? else {
                gaps += 1;
                next -= 1;
                if gaps > MAX_GAP_READS {
                    break;
                }
                continue;
            };
            let record: AuditRecord = serde_json::from_value(found.value)
                .map_err(|_| StoreError::Corrupt(format!("audit record {next}")))?;
            if since_millis.is_some_and(|since| clock::parse_rfc3339_millis(&record.at).is_some_and(|at| at < since)) {
                next = 0;
                break;
            }
            records.push(record);
            next -= 1;
        }
        Ok(Page { records, next_cursor: (next > 0).then(|| encode_cursor(next)) })
    }

    async fn remove(&self, keys: &[String]) {
        for key in keys {
            if let Err(error) = self.store.delete(key).await {
                tracing::error!(%error, "could not withdraw the audit record of a change that was not made; the trail keeps it");
            }
        }
    }
}

/// One numbered sequence of records.
struct Chain {
    folder: String,
    head: String,
}

#[derive(Serialize, Deserialize)]
struct Head {
    last: u64,
}

impl Chain {
    fn all() -> Self {
        Self { folder: "audit/all".to_owned(), head: "audit/heads/all".to_owned() }
    }

    fn account(account: &str) -> Self {
        let account = segment(account);
        Self { folder: format!("audit/accounts/{account}"), head: format!("audit/heads/{account}") }
    }

    fn entry(&self, n: u64) -> String {
        format!("{}/{n}", self.folder)
    }

    async fn hint(&self, store: &dyn Store) -> Result<u64, StoreError> {
        Ok(match store.read(&self.head).await? {
            Some(found) => serde_json::from_value::<Head>(found.value).map_or(0, |h| h.last),
            None => 0,
        })
    }

    /// The highest number in use: the hint, then forward while entries exist.
    async fn last(&self, store: &dyn Store) -> Result<u64, StoreError> {
        let mut last = self.hint(store).await?;
        while store.read(&self.entry(last + 1)).await?.is_some() {
            last += 1;
        }
        Ok(last)
    }

    /// Writes `value` under the next free number; returns its key.
    async fn append(&self, store: &dyn Store, value: &Value) -> Result<String, StoreError> {
        let mut n = self.hint(store).await? + 1;
        for _ in 0..MAX_APPEND_ATTEMPTS {
            let key = self.entry(n);
            match store.write(&key, value, Expect::Absent).await {
                Ok(_) => {
                    // Only a hint: readers probe past a stale one, so a failure costs reads only.
                    if let Err(error) = store.write(&self.head, &json!({ "last": n }), Expect::Any).await {
                        tracing::warn!(%error, "could not raise the audit trail's head hint");
                    }
                    return Ok(key);
                }
                Err(StoreError::Conflict) => n += 1,
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::Unavailable("audit trail: too many concurrent appends".to_owned()))
    }
}

fn encode_cursor(next: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("a1:{next}"))
}

fn decode_cursor(cursor: &str) -> Result<u64, AuditError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| AuditError::BadCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| AuditError::BadCursor)?;
    text.strip_prefix("a1:").and_then(|n| n.parse::<u64>().ok()).ok_or(AuditError::BadCursor)
}

#[cfg(test)]
mod tests;
