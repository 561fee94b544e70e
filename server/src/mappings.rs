//! Mapping service (SPEC sections 3 and 5): create many at once, list, get, update and delete
//! with revisions; uniqueness of name and of (service, normalised URL) per account built on
//! create-only writes (Vault check-and-set). Owns the store keys under `mappings/` (see `keys`).
//!
//! Uniqueness: before a record is written, its name key and its route key are *claimed*
//! ([`claim`]) for the mapping id. Of two racing clients or gateway instances exactly one claim
//! succeeds; the other answers 409. A claim whose mapping does not use it (left by a crash
//! between the claim and the record write, or between an update and the release of the old key)
//! is taken over once abandoned, so nothing is blocked for ever and an in-flight write is never
//! stolen.
//!
//! The revision of a mapping is the store version of its record; updates write with
//! `Expect::Version`, so a stale `If-Match` (or a concurrent update) cannot overwrite a newer one.
//!
//! Callers (the handlers) call `AppState::mappings_changed` after each successful change.

use std::sync::Arc;

use futures_util::{stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::store::{claim, Expect, Store, StoreError, Versioned};

mod certificate_source;
mod error;
#[cfg(test)]
pub(crate) mod fakes;
pub(crate) mod keys;
pub(crate) mod model;

pub use certificate_source::CertificateSource;
pub use error::{InvalidUrl, MappingError};
pub use model::{Mapping, MAX_ID, MAX_NAME_CHARS, MAX_URL_BYTES};
pub(crate) use model::StoredMapping;

use model::{FieldRules, MappingFields};

/// Longest account id: its store key segment (hex) must fit a 255-byte file name.
pub const MAX_ACCOUNT_BYTES: usize = 100;
/// Most mappings accepted in one create request.
pub const MAX_BATCH: usize = 100;

/// A mapping that uses a certificate, as listed in a `certificate_in_use` conflict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MappingRef {
    /// Mapping id.
    pub id: u64,
    /// Mapping name.
    pub name: String,
}

/// Mapping operations over the store.
pub struct MappingService {
    store: Arc<dyn Store>,
    certificates: Arc<dyn CertificateSource>,
    services: Vec<(String, u32)>,
    allow_http: bool,
}

/// Which uniqueness index a claim is for; decides the conflict reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Index {
    Name,
    Route,
}

impl MappingService {
    /// A service over `store`; `services` is `MTLS_SERVICES`, `allow_http` is
    /// `MTLS_ALLOW_PLAIN_HTTP_TARGETS` (a mapping URL is a forwarding target).
    pub fn new(
        store: Arc<dyn Store>,
        certificates: Arc<dyn CertificateSource>,
        services: Vec<(String, u32)>,
        allow_http: bool,
    ) -> Self {
        Self { store, certificates, services, allow_http }
    }

    /// Creates every mapping in `body` (an array, or one object) or none: all items are validated,
    /// checked against each other and against the store before the first write; a race lost
    /// during the writes rolls back what this request wrote.
    ///
    /// # Errors
    /// [`MappingError::InItem`] around what is wrong with an item (a field, an unknown
    /// certificate, a duplicate name or route, the store); the body's shape otherwise.
    pub async fn create(&self, account: &str, body: &Value) -> Result<Vec<Mapping>, MappingError> {
        let planned = self.plan_batch(account, body)?;
        for (index, record) in planned.iter().enumerate() {
            self.require_certificate(account, record.certification_id).await.map_err(|e| e.in_item(index))?;
            let name_key = keys::name(account, &record.name);
            if self.holder(account, &name_key, 0, &|r| r.name == record.name).await?.taken {
                return Err(duplicate(Index::Name, record, &self.services).in_item(index));
            }
            let route_key = keys::route(account, record.service_code, &record.url);
            if self.holder(account, &route_key, 0, &|r| same_route(r, record)).await?.taken {
                return Err(duplicate(Index::Route, record, &self.services).in_item(index));
            }
        }
        let mut created: Vec<(StoredMapping, u64)> = Vec::with_capacity(planned.len());
        for (index, mut record) in planned.into_iter().enumerate() {
            record.id = new_id()?;
            match self.insert(account, &record).await {
                Ok(revision) => created.push((record, revision)),
                Err(error) => {
                    for (done, _) in created.iter().rev() {
                        self.remove_everything(account, done).await;
                    }
                    return Err(error.in_item(index));
                }
            }
        }
        Ok(created.iter().map(|(r, rev)| r.to_api(account, *rev, &self.services)).collect())
    }

    /// The names of the mappings `body` would create, when it passes every check that needs no
    /// store (shape, fields, services, URLs, duplicates within the body): what a caller records
    /// before [`Self::create`] makes them.
    ///
    /// # Errors
    /// As [`Self::create`], for the checks without the store.
    pub fn names_to_create(&self, account: &str, body: &Value) -> Result<Vec<String>, MappingError> {
        Ok(self.plan_batch(account, body)?.into_iter().map(|r| r.name).collect())
    }

    fn plan_batch(&self, account: &str, body: &Value) -> Result<Vec<StoredMapping>, MappingError> {
        let items = match body {
            Value::Array(items) => items.as_slice(),
            Value::Object(_) => std::slice::from_ref(body),
            _ => return Err(MappingError::NotABatch),
        };
        if items.is_empty() || items.len() > MAX_BATCH {
            return Err(MappingError::BatchSize { max: MAX_BATCH });
        }
        let mut planned = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            planned.push(self.plan_create(account, item).map_err(|e| e.in_item(index))?);
        }
        for (index, record) in planned.iter().enumerate() {
            if let Some(earlier) = planned[..index].iter().find(|r| r.name == record.name) {
                return Err(duplicate(Index::Name, earlier, &self.services).in_item(index));
            }
            if let Some(earlier) = planned[..index].iter().find(|r| same_route(r, record)) {
                return Err(duplicate(Index::Route, earlier, &self.services).in_item(index));
            }
        }
        Ok(planned)
    }

    /// Every mapping of `account`, by id. Configuration reads are never cached.
    ///
    /// # Errors
    /// The store's error.
    pub async fn list(&self, account: &str) -> Result<Vec<Mapping>, MappingError> {
        let names = self.store.list(&keys::records(account)).await?;
        let ids: Vec<u64> = names.iter().filter_map(|n| n.parse().ok()).collect();
        let mut found: Vec<Mapping> = stream::iter(ids)
            .map(|id| self.read_record(account, id))
            .buffer_unordered(8)
            .try_filter_map(|found| async move {
                Ok(found.map(|(r, rev)| r.to_api(account, rev, &self.services)))
            })
            .try_collect()
            .await?;
        found.sort_by_key(|m| m.id);
        Ok(found)
    }

    /// Mapping `id` of `account`.
    ///
    /// # Errors
    /// [`MappingError::NotFound`] (also for another account's id); the store's error.
    pub async fn get(&self, account: &str, id: u64) -> Result<Mapping, MappingError> {
        let (record, revision) = self.read_record(account, id).await?.ok_or(MappingError::NotFound)?;
        Ok(record.to_api(account, revision, &self.services))
    }

    /// Changes the fields present in `body` (absent or null fields keep their value). With
    /// `if_match`, the change applies only to that revision.
    ///
    /// # Errors
    /// [`MappingError::NotFound`], [`MappingError::StaleRevision`], a duplicate name or route,
    /// [`MappingError::ConcurrentUpdate`], a field error as for create, the store's error.
    pub async fn update(
        &self,
        account: &str,
        id: u64,
        body: &Value,
        if_match: Option<u64>,
    ) -> Result<Mapping, MappingError> {
        let (current, revision) = self.read_record(account, id).await?.ok_or(MappingError::NotFound)?;
        check_revision(if_match, revision)?;
        let fields = MappingFields::parse(body, &self.rules(account, Some(current.service_code)))?;
        if let Some(given) = body.get("id").filter(|v| !v.is_null())
            && model::parse_id(given) != Some(id) {
                return Err(MappingError::IdMismatch);
            }
        let next = StoredMapping {
            id,
            name: fields.name.unwrap_or_else(|| current.name.clone()),
            certification_id: fields.certification_id.unwrap_or(current.certification_id),
            service_code: fields.service.map_or(current.service_code, |s| s.code),
            url: fields.url.unwrap_or_else(|| current.url.clone()),
            enable: fields.enable.unwrap_or(current.enable),
        };
        let name_changed = next.name != current.name;
        let route_changed = !same_route(&next, &current);
        let certificate_changed = next.certification_id != current.certification_id;
        if certificate_changed {
            self.require_certificate(account, next.certification_id).await?;
        }
        let mut claimed: Vec<String> = Vec::new();
        let outcome = self
            .write_update(account, &current, &next, revision, if_match, &mut claimed)
            .await;
        // With the record written, the certificate is looked at again (see `insert`).
        let outcome = match outcome {
            Ok(new_revision) if certificate_changed => {
                match self.require_certificate(account, next.certification_id).await {
                    Ok(()) => Ok(new_revision),
                    Err(error) => Err(self.undo_update(account, &current, new_revision, error).await),
                }
            }
            other => other,
        };
        let new_revision = match outcome {
            Ok(new_revision) => new_revision,
            Err(error) => {
                for key in &claimed {
                    self.release(key, id).await;
                }
                if certificate_changed {
                    self.forget(&keys::certificate_user(account, next.certification_id, id)).await;
                }
                return Err(error);
            }
        };
        if name_changed {
            self.release(&keys::name(account, &current.name), id).await;
        }
        if route_changed {
            self.release(&keys::route(account, current.service_code, &current.url), id).await;
        }
        if certificate_changed {
            self.forget(&keys::certificate_user(account, current.certification_id, id)).await;
        }
        Ok(next.to_api(account, new_revision, &self.services))
    }

    /// Deletes mapping `id`; with `if_match`, only at that revision. Answers the mapping as it
    /// was, with `deleted: true`.
    ///
    /// # Errors
    /// [`MappingError::NotFound`], [`MappingError::StaleRevision`], the store's error.
    pub async fn delete(
        &self,
        account: &str,
        id: u64,
        if_match: Option<u64>,
    ) -> Result<Mapping, MappingError> {
        let (record, revision) = self.read_record(account, id).await?.ok_or(MappingError::NotFound)?;
        check_revision(if_match, revision)?;
        // The record goes first: once it is gone the mapping no longer exists for anyone, and
        // index keys left behind by a crash right here are taken over by the next claimant.
        self.store.delete(&keys::record(account, id)).await?;
        self.remove_indexes(account, &record).await;
        let mut mapping = record.to_api(account, revision, &self.services);
        mapping.deleted = true;
        Ok(mapping)
    }

    /// The mappings of `account` that use certificate `certificate_id` (for the delete conflict):
    /// one list of `by-certificate/{id}` and one read per mapping found.
    ///
    /// # Errors
    /// The store's error.
    pub async fn using_certificate(
        &self,
        account: &str,
        certificate_id: u64,
    ) -> Result<Vec<MappingRef>, StoreError> {
        let names = self.store.list(&keys::users_of_certificate(account, certificate_id)).await?;
        let mut users = Vec::new();
        for id in names.iter().filter_map(|n| n.parse::<u64>().ok()) {
            // A marker whose record is gone or points elsewhere is a leftover: not a user.
            if let Some((record, _)) = self.read_stored(account, id).await?
                && record.certification_id == certificate_id {
                    users.push(MappingRef { id, name: record.name });
                }
        }
        users.sort_by_key(|u| u.id);
        Ok(users)
    }

    // === helpers ===

    fn rules<'a>(&'a self, account: &'a str, current_service: Option<u32>) -> FieldRules<'a> {
        FieldRules { account, services: &self.services, allow_http: self.allow_http, current_service }
    }

    fn plan_create(&self, account: &str, item: &Value) -> Result<StoredMapping, MappingError> {
        let fields = MappingFields::parse(item, &self.rules(account, None))?;
        let missing = fields.missing_for_create();
        let (Some(name), Some(certification_id), Some(service), Some(url)) =
            (fields.name, fields.certification_id, fields.service, fields.url)
        else {
            return Err(MappingError::MissingFields { fields: missing });
        };
        Ok(StoredMapping {
            id: 0,
            name,
            certification_id,
            service_code: service.code,
            url,
            enable: fields.enable.unwrap_or(true),
        })
    }

    /// [`MappingError::CertificateNotFound`] unless certificate `id` exists and is not being
    /// deleted.
    async fn require_certificate(&self, account: &str, id: u64) -> Result<(), MappingError> {
        if self.certificates.accepts_users(account, id).await? {
            Ok(())
        } else {
            Err(MappingError::CertificateNotFound { certificate_id: id })
        }
    }

    /// Claims both index keys, marks the certificate use and writes the record.
    async fn insert(&self, account: &str, record: &StoredMapping) -> Result<u64, MappingError> {
        let name_key = keys::name(account, &record.name);
        if !self.claim(account, &name_key, record.id, &|r| r.name == record.name).await? {
            return Err(duplicate(Index::Name, record, &self.services));
        }
        let route_key = keys::route(account, record.service_code, &record.url);
        match self.claim(account, &route_key, record.id, &|r| same_route(r, record)).await {
            Ok(true) => {}
            Ok(false) => {
                self.release(&name_key, record.id).await;
                return Err(duplicate(Index::Route, record, &self.services));
            }
            Err(error) => {
                self.release(&name_key, record.id).await;
                return Err(error.into());
            }
        }
        let value = to_json(record)?;
        let written = async {
            let marker = keys::certificate_user(account, record.certification_id, record.id);
            self.store.write(&marker, &json!({ "id": record.id }), Expect::Any).await?;
            self.store.write(&keys::record(account, record.id), &value, Expect::Absent).await
        }
        .await;
        match written {
            // Only now, with the record written, may the certificate be looked at again: a
            // delete that began before this look undoes it (see `delete_unless_used`).
            Ok(revision) => match self.require_certificate(account, record.certification_id).await {
                Ok(()) => Ok(revision),
                Err(error) => {
                    self.remove_everything(account, record).await;
                    Err(error)
                }
            },
            Err(error) => {
                self.remove_indexes(account, record).await;
                Err(match error {
                    // Two random 53-bit ids collided: astronomically rare, and safe to retry.
                    StoreError::Conflict => MappingError::IdCollision,
                    other => other.into(),
                })
            }
        }
    }

    async fn write_update(
        &self,
        account: &str,
        current: &StoredMapping,
        next: &StoredMapping,
        revision: u64,
        if_match: Option<u64>,
        claimed: &mut Vec<String>,
    ) -> Result<u64, MappingError> {
        if next.name != current.name {
            let key = keys::name(account, &next.name);
            if !self.claim(account, &key, next.id, &|r| r.name == next.name).await? {
                return Err(duplicate(Index::Name, next, &self.services));
            }
            claimed.push(key);
        }
        if !same_route(next, current) {
            let key = keys::route(account, next.service_code, &next.url);
            if !self.claim(account, &key, next.id, &|r| same_route(r, next)).await? {
                return Err(duplicate(Index::Route, next, &self.services));
            }
            claimed.push(key);
        }
        if next.certification_id != current.certification_id {
            let marker = keys::certificate_user(account, next.certification_id, next.id);
            self.store.write(&marker, &json!({ "id": next.id }), Expect::Any).await?;
        }
        let key = keys::record(account, next.id);
        match self.store.write(&key, &to_json(next)?, Expect::Version(revision)).await {
            Ok(new_revision) => Ok(new_revision),
            Err(StoreError::Conflict) if if_match.is_some() => Err(MappingError::StaleRevision),
            Err(StoreError::Conflict) => Err(MappingError::ConcurrentUpdate),
            Err(other) => Err(other.into()),
        }
    }

    /// Puts back `current` over the update written at `new_revision` that has to be undone, and
    /// answers `error`; when that fails too (the store is down, or another update came in
    /// between), that failure.
    async fn undo_update(
        &self,
        account: &str,
        current: &StoredMapping,
        new_revision: u64,
        error: MappingError,
    ) -> MappingError {
        let value = match to_json(current) {
            Ok(value) => value,
            Err(failure) => return failure,
        };
        let key = keys::record(account, current.id);
        match self.store.write(&key, &value, Expect::Version(new_revision)).await {
            Ok(_) => error,
            Err(failure) => {
                tracing::error!(%failure, account, id = current.id, "could not undo a mapping update to a certificate being deleted");
                match failure {
                    StoreError::Conflict => MappingError::ConcurrentUpdate,
                    other => other.into(),
                }
            }
        }
    }

    /// Creates `key` for mapping `id`, or takes it over when abandoned (see [`claim`]).
    /// `false` when another mapping holds it.
    async fn claim(
        &self,
        account: &str,
        key: &str,
        id: u64,
        uses_key: &(dyn Fn(&StoredMapping) -> bool + Sync),
    ) -> Result<bool, StoreError> {
        let uses = |holder| self.holder_uses(account, holder, uses_key);
        claim::claim(self.store.as_ref(), key, id, uses).await
    }

    /// Who holds index `key`: `taken` unless it is free, ours (`id`), or abandoned.
    async fn holder(
        &self,
        account: &str,
        key: &str,
        id: u64,
        uses_key: &(dyn Fn(&StoredMapping) -> bool + Sync),
    ) -> Result<claim::Holder, StoreError> {
        let uses = |holder| self.holder_uses(account, holder, uses_key);
        claim::holder(self.store.as_ref(), key, id, uses).await
    }

    /// True when mapping `holder` exists and uses the key (`uses_key`).
    async fn holder_uses(
        &self,
        account: &str,
        holder: u64,
        uses_key: &(dyn Fn(&StoredMapping) -> bool + Sync),
    ) -> Result<bool, StoreError> {
        Ok(self.read_stored(account, holder).await?.is_some_and(|(record, _)| uses_key(&record)))
    }

    /// Deletes index `key` when it still names mapping `id` (best effort; see [`claim`]).
    async fn release(&self, key: &str, id: u64) {
        claim::release(self.store.as_ref(), key, id).await;
    }

    /// Deletes `key`, logging a failure.
    async fn forget(&self, key: &str) {
        if let Err(error) = self.store.delete(key).await {
            tracing::warn!(%error, "could not delete a mapping index key");
        }
    }

    async fn remove_indexes(&self, account: &str, record: &StoredMapping) {
        self.release(&keys::name(account, &record.name), record.id).await;
        self.release(&keys::route(account, record.service_code, &record.url), record.id).await;
        self.forget(&keys::certificate_user(account, record.certification_id, record.id)).await;
    }

    async fn remove_everything(&self, account: &str, record: &StoredMapping) {
        self.forget(&keys::record(account, record.id)).await;
        self.remove_indexes(account, record).await;
    }

    async fn read_record(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<(StoredMapping, u64)>, MappingError> {
        Ok(self.read_stored(account, id).await?)
    }

    async fn read_stored(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<(StoredMapping, u64)>, StoreError> {
        match self.store.read(&keys::record(account, id)).await? {
            Some(Versioned { value, version }) => Ok(Some((from_json(value)?, version))),
            None => Ok(None),
        }
    }
}

/// The enabled-or-not mapping stored for (account, service code, normalised url), if any:
/// at most two store reads (route key, record). Used by the runtime cache.
///
/// # Errors
/// The store's error.
pub(crate) async fn find_route(
    store: &dyn Store,
    account: &str,
    service_code: u32,
    normalized_url: &str,
) -> Result<Option<StoredMapping>, StoreError> {
    let Some(id) = claim::claimed_id(store, &keys::route(account, service_code, normalized_url)).await? else {
        return Ok(None);
    };
    let Some(record) = store.read(&keys::record(account, id)).await? else {
        return Ok(None);
    };
    let record: StoredMapping = serde_json::from_value(record.value)
        .map_err(|e| StoreError::Corrupt(format!("mapping record: {e}")))?;
    // A leftover index (the mapping moved to another URL) does not count.
    let current = record.service_code == service_code && record.url == normalized_url;
    Ok(current.then_some(record))
}

fn same_route(a: &StoredMapping, b: &StoredMapping) -> bool {
    a.service_code == b.service_code && a.url == b.url
}

fn duplicate(index: Index, record: &StoredMapping, services: &[(String, u32)]) -> MappingError {
    match index {
        Index::Name => MappingError::DuplicateName { name: record.name.clone() },
        Index::Route => MappingError::DuplicateRoute {
            service_code: record.service_code,
            service_name: crate::services::name_of(services, record.service_code),
            url: record.url.clone(),
        },
    }
}

fn check_revision(if_match: Option<u64>, revision: u64) -> Result<(), MappingError> {
    match if_match {
        Some(wanted) if wanted != revision => Err(MappingError::StaleRevision),
        _ => Ok(()),
    }
}

fn new_id() -> Result<u64, MappingError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|error| MappingError::NoRandomness { reason: error.to_string() })?;
    Ok(u64::from_le_bytes(bytes) % MAX_ID + 1)
}

fn to_json<T: Serialize>(value: &T) -> Result<Value, MappingError> {
    serde_json::to_value(value).map_err(|error| MappingError::Encode { reason: error.to_string() })
}

fn from_json<T: for<'de> Deserialize<'de>>(value: Value) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|e| StoreError::Corrupt(format!("mapping value: {e}")))
}

#[cfg(test)]
mod tests;
