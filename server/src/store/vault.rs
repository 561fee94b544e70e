//! [`Store`] over HashiCorp Vault / OpenBao KV v2, through vaultrs (SPEC section 8).
//!
//! Layout: key `k` lives at `{mount}/data/{prefix}/{k}`. Versions are KV v2's own version
//! numbers, and check-and-set maps one to one onto KV v2's `cas` option:
//! [`Expect::Absent`] → `cas=0` (create only), [`Expect::Version`]`(n)` → `cas=n`,
//! [`Expect::Any`] → no `cas`. Vault decides the race, so any number of gateway instances can
//! share one Vault and two racing writers cannot both win.
//!
//! Delete keeps the key's version counter, so a version number is never reused for a different
//! value (the guarantee [`Expect::Version`] needs: with KV v2's `delete metadata`, a re-created
//! key would start again at 1, and a stale writer holding version 1 of the old key, say one
//! taking over a leftover name claim, would silently overwrite the new one). A delete therefore
//! writes a tombstone version (`{"__mtls_deleted": true}`), then *destroys* the data of every
//! version, tombstone included: no secret stays in Vault's history, reads answer "absent", any
//! stale check-and-set fails, and a create (`Expect::Absent`) of a deleted key checks-and-sets
//! against that exact current version, so racing creators still race on one CAS. The metadata
//! (key name and version numbers, no values) stays; `list` leaves deleted keys out.
//!
//! Errors: a CAS mismatch (HTTP 400 "check-and-set parameter did not match") is
//! [`StoreError::Conflict`]; transport failures, 5xx, 429 and permission errors are
//! [`StoreError::Unavailable`]. 404 on read is "absent".
//!
//! Authentication: a fixed token (`VAULT_TOKEN`, renewed in the background when renewable), or
//! AppRole (`VAULT_ROLE_ID`/`VAULT_SECRET_ID`): log in at start, log in again at two thirds of
//! the lease, and once more on a 403 before giving up on a request.

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::RwLock;
use futures_util::{StreamExt, TryStreamExt};
use vaultrs::api::kv2::requests::{ReadSecretRequest, SetSecretRequestOptions};
use vaultrs::api::kv2::responses::ReadSecretMetadataResponse;
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;

use super::{Expect, Store, StoreError, Versioned};
use crate::config::VaultAuth;

/// How long one Vault request may take before the store counts as unavailable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Retry delay of the background login/renewal task after a failure.
const RETRY_DELAY: Duration = Duration::from_secs(5);

/// Settings to reach Vault (from `config::StoreConfig::Vault`).
#[derive(Clone)]
pub struct VaultSettings {
    /// `VAULT_ADDR`.
    pub address: String,
    /// Token or AppRole.
    pub auth: VaultAuth,
    /// KV v2 mount.
    pub mount: String,
    /// Key prefix (may be empty).
    pub prefix: String,
    /// Extra CA file for an HTTPS Vault.
    pub ca_cert: Option<std::path::PathBuf>,
    /// Vault Enterprise namespace.
    pub namespace: Option<String>,
}

/// The Vault-backed store.
pub struct VaultStore {
    inner: Arc<Inner>,
}

struct Inner {
    settings: VaultSettings,
    client: RwLock<Arc<VaultClient>>,
}

impl VaultStore {
    /// Connects and logs in. An unreachable Vault is not fatal (requests answer
    /// [`StoreError::Unavailable`] and login is retried), but credentials that Vault refuses are.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] naming the setting when the client cannot be built or the
    /// AppRole credentials are refused.
    pub async fn open(settings: VaultSettings) -> Result<Self, StoreError> {
        let client = build_client(&settings, None)?;
        let inner = Arc::new(Inner { settings, client: RwLock::new(Arc::new(client)) });
        match inner.login().await {
            Ok(lease) => spawn_renewal(Arc::downgrade(&inner), lease, false),
            Err(LoginError::Refused(message)) => return Err(StoreError::Unavailable(message)),
            Err(LoginError::Unreachable(message)) => {
                tracing::warn!(error = %message, "vault unreachable at start; retrying in the background");
                spawn_renewal(Arc::downgrade(&inner), Some(RETRY_DELAY), true);
            }
        }
        Ok(Self { inner })
    }

    fn path(&self, key: &str) -> String {
        join(&self.inner.settings.prefix, key)
    }

    fn mount(&self) -> &str {
        &self.inner.settings.mount
    }

    /// Runs `op` with the current client; on a permission error with AppRole, logs in again and
    /// retries once (the token may have expired while the process was suspended).
    async fn with_client<T, F, Fut>(&self, op: F) -> Result<T, ClientError>
    where
        F: Fn(Arc<VaultClient>) -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        let client = self.inner.client.read().await.clone();
        match op(client).await {
            Err(ClientError::APIError { code: 403, .. })
                if matches!(self.inner.settings.auth, VaultAuth::AppRole { .. }) =>
            {
                if self.inner.login().await.is_ok() {
                    let client = self.inner.client.read().await.clone();
                    op(client).await
                } else {
                    Err(ClientError::APIError { code: 403, errors: Vec::new() })
                }
            }
            other => other,
        }
    }
}

#[async_trait]
impl Store for VaultStore {
    async fn read(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        Ok(self.read_raw(&self.path(key)).await?.filter(|v| !is_tombstone(&v.value)))
    }

    async fn write(&self, key: &str, value: &Value, expect: Expect) -> Result<u64, StoreError> {
        let path = self.path(key);
        match expect {
            Expect::Any => self.set(&path, value, None).await,
            // KV v2 versions are u32 on the wire; a larger one can never match.
            Expect::Version(n) => {
                self.set(&path, value, Some(u32::try_from(n).map_err(|_| StoreError::Conflict)?)).await
            }
            Expect::Absent => match self.set(&path, value, Some(0)).await {
                Err(StoreError::Conflict) => {
                    // The key may exist only as a deleted one (its versions kept, see module
                    // docs): create over that exact version, so racing creators still race on
                    // one check-and-set.
                    match self.deleted_at(&path).await? {
                        Some(version) => {
                            let cas = u32::try_from(version).map_err(|_| StoreError::Conflict)?;
                            self.set(&path, value, Some(cas)).await
                        }
                        None => Err(StoreError::Conflict),
                    }
                }
                other => other,
            },
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key);
        let Some(meta) = self.metadata(&path).await? else { return Ok(()) };
        if version_destroyed(&meta, meta.current_version) {
            return Ok(());
        }
        // 1. A tombstone as the new latest version: readers see "absent" from here on, and a
        //    writer holding any earlier version now fails its check-and-set.
        let tombstone = self.set(&path, &tombstone_value(), None).await?;
        // 2. Destroy the data of every version (the tombstone's too), so no secret stays in
        //    Vault's history; the version counter survives, so numbers are never reused.
        let mut versions: Vec<u64> = meta
            .versions
            .iter()
            .filter(|(_, v)| !v.destroyed)
            .filter_map(|(n, _)| n.parse().ok())
            .collect();
        versions.push(tombstone);
        let mount = self.mount().to_owned();
        let result = self
            .with_client(|client| {
                let (mount, path, versions) = (mount.clone(), path.clone(), versions.clone());
                async move { vaultrs::kv2::destroy_versions(client.as_ref(), &mount, &path, versions).await }
            })
            .await;
        result.map_err(map_error)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let folder = self.path(prefix);
        let names = self.list_raw(&folder).await?;
        // Deleted keys keep their metadata (module docs): list only the live ones. Folders are
        // listed while they hold any key, deleted or not.
        let checks = names.into_iter().map(|name| {
            let folder = folder.clone();
            async move {
                if name.ends_with('/') {
                    return Ok(Some(name));
                }
                let live = self.read_raw(&join(&folder, &name)).await?.is_some_and(|v| !is_tombstone(&v.value));
                Ok::<_, StoreError>(live.then_some(name))
            }
        });
        let mut live: Vec<String> = futures_util::stream::iter(checks)
            .buffered(16)
            .try_filter_map(|name| async move { Ok(name) })
            .try_collect()
            .await?;
        live.sort();
        Ok(live)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // A real authenticated request on the prefix: proves reachability, token and policy.
        self.list_raw(&self.path("")).await.map(|_| ())
    }
}

// === impl VaultStore: requests ===

impl VaultStore {
    /// The latest version at `path` as stored (tombstones included); `None` when absent or
    /// destroyed.
    async fn read_raw(&self, path: &str) -> Result<Option<Versioned>, StoreError> {
        let mount = self.mount().to_owned();
        let result = self
            .with_client(|client| {
                let (mount, path) = (mount.clone(), path.to_owned());
                async move {
                    let endpoint = ReadSecretRequest::builder()
                        .mount(mount)
                        .path(path)
                        .build()
                        .map_err(|_| ClientError::InvalidUpdateParameter)?;
                    vaultrs::api::exec_with_result(client.as_ref(), endpoint).await
                }
            })
            .await;
        match result {
            Ok(response) if response.metadata.destroyed || !response.metadata.deletion_time.is_empty() => Ok(None),
            Ok(response) => Ok(Some(Versioned { value: response.data, version: response.metadata.version })),
            // Absent, or latest version destroyed (Vault answers 404 for both; for a destroyed
            // version the body is the metadata, not an error list).
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    async fn set(&self, path: &str, value: &Value, cas: Option<u32>) -> Result<u64, StoreError> {
        let mount = self.mount().to_owned();
        let result = self
            .with_client(|client| {
                let (mount, path) = (mount.clone(), path.to_owned());
                async move {
                    match cas {
                        Some(cas) => {
                            let options = SetSecretRequestOptions { cas };
                            vaultrs::kv2::set_with_options(client.as_ref(), &mount, &path, value, options).await
                        }
                        None => vaultrs::kv2::set(client.as_ref(), &mount, &path, value).await,
                    }
                }
            })
            .await;
        match result {
            Ok(meta) => Ok(meta.version),
            Err(e) if is_cas_mismatch(&e) => Err(StoreError::Conflict),
            Err(e) => Err(map_error(e)),
        }
    }

    async fn metadata(&self, path: &str) -> Result<Option<ReadSecretMetadataResponse>, StoreError> {
        let mount = self.mount().to_owned();
        let result = self
            .with_client(|client| {
                let (mount, path) = (mount.clone(), path.to_owned());
                async move { vaultrs::kv2::read_metadata(client.as_ref(), &mount, &path).await }
            })
            .await;
        match result {
            Ok(meta) => Ok(Some(meta)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    /// The current version of a key that exists only as deleted (destroyed or a tombstone);
    /// `None` when it is live (or gone entirely, which a failed `cas=0` rules out).
    async fn deleted_at(&self, path: &str) -> Result<Option<u64>, StoreError> {
        let Some(meta) = self.metadata(path).await? else { return Ok(None) };
        let current = meta.current_version;
        if version_destroyed(&meta, current) {
            return Ok(Some(current));
        }
        match self.read_raw(path).await? {
            Some(latest) if latest.version == current && is_tombstone(&latest.value) => Ok(Some(current)),
            _ => Ok(None),
        }
    }

    async fn list_raw(&self, path: &str) -> Result<Vec<String>, StoreError> {
        let mount = self.mount().to_owned();
        let result = self
            .with_client(|client| {
                let (mount, path) = (mount.clone(), path.to_owned());
                async move { vaultrs::kv2::list(client.as_ref(), &mount, &path).await }
            })
            .await;
        match result {
            Ok(names) => Ok(names),
            Err(e) if is_not_found(&e) => Ok(Vec::new()),
            Err(e) => Err(map_error(e)),
        }
    }
}

/// Marker field of a deleted key's last version (holds no data).
const TOMBSTONE_FIELD: &str = "__mtls_deleted";

fn tombstone_value() -> Value {
    serde_json::json!({ TOMBSTONE_FIELD: true })
}

fn is_tombstone(value: &Value) -> bool {
    value.get(TOMBSTONE_FIELD).is_some()
}

fn version_destroyed(meta: &ReadSecretMetadataResponse, version: u64) -> bool {
    meta.versions.get(&version.to_string()).is_some_and(|v| v.destroyed || !v.deletion_time.is_empty())
}

// === impl Inner ===

enum LoginError {
    /// Vault answered and refused the credentials.
    Refused(String),
    /// Vault could not be reached.
    Unreachable(String),
}

impl Inner {
    /// Logs in (AppRole) or checks the token; returns when to renew, if ever.
    async fn login(&self) -> Result<Option<Duration>, LoginError> {
        match &self.settings.auth {
            VaultAuth::AppRole { role_id, secret_id, mount } => {
                let client = self.client.read().await.clone();
                match vaultrs::auth::approle::login(client.as_ref(), mount, role_id, secret_id).await {
                    Ok(auth) => {
                        let new = build_client(&self.settings, Some(&auth.client_token))
                            .map_err(|e| LoginError::Refused(e.to_string()))?;
                        *self.client.write().await = Arc::new(new);
                        tracing::info!(lease_seconds = auth.lease_duration, "vault approle login");
                        Ok(renew_after(auth.lease_duration))
                    }
                    Err(ClientError::APIError { code, .. }) if (400..500).contains(&code) => Err(
                        LoginError::Refused(format!(
                            "vault refused the AppRole login (HTTP {code}); check VAULT_ROLE_ID, \
                             VAULT_SECRET_ID and VAULT_APPROLE_MOUNT"
                        )),
                    ),
                    Err(e) => Err(LoginError::Unreachable(map_error(e).to_string())),
                }
            }
            VaultAuth::Token(_) => {
                let client = self.client.read().await.clone();
                match vaultrs::token::lookup_self(client.as_ref()).await {
                    Ok(info) if info.renewable == Some(true) && info.ttl > 0 => Ok(renew_after(info.ttl)),
                    Ok(_) => Ok(None),
                    Err(ClientError::APIError { code: 403, .. }) => Err(LoginError::Refused(
                        "vault refused VAULT_TOKEN (HTTP 403); check the token".to_owned(),
                    )),
                    // A token without lookup-self rights still works for KV; do not insist.
                    Err(ClientError::APIError { .. }) => Ok(None),
                    Err(e) => Err(LoginError::Unreachable(map_error(e).to_string())),
                }
            }
        }
    }

    /// Renews the token (token auth) or logs in again (AppRole).
    async fn refresh(&self) -> Result<Option<Duration>, LoginError> {
        if matches!(self.settings.auth, VaultAuth::Token(_)) {
            let client = self.client.read().await.clone();
            return match vaultrs::token::renew_self(client.as_ref(), None).await {
                Ok(auth) => Ok(renew_after(auth.lease_duration)),
                Err(e) => Err(LoginError::Unreachable(map_error(e).to_string())),
            };
        }
        self.login().await
    }
}

/// Keeps the token alive: sleeps until two thirds of the lease, then renews or logs in again;
/// retries every few seconds on failure. `need_login`: the first login has not succeeded yet
/// (Vault was unreachable at start). Ends when the store is dropped.
fn spawn_renewal(inner: Weak<Inner>, first: Option<Duration>, mut need_login: bool) {
    let Some(mut wait) = first else { return };
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(wait).await;
            let Some(inner) = inner.upgrade() else { return };
            let result = if need_login { inner.login().await } else { inner.refresh().await };
            if result.is_ok() {
                need_login = false;
            }
            wait = match result {
                Ok(Some(next)) => next,
                Ok(None) => return,
                Err(LoginError::Refused(message) | LoginError::Unreachable(message)) => {
                    tracing::warn!(error = %message, "vault token renewal failed; retrying");
                    RETRY_DELAY
                }
            };
        }
    });
}

fn renew_after(lease_seconds: u64) -> Option<Duration> {
    (lease_seconds > 0).then(|| Duration::from_secs(lease_seconds.saturating_mul(2) / 3).max(Duration::from_secs(1)))
}

fn build_client(settings: &VaultSettings, token: Option<&str>) -> Result<VaultClient, StoreError> {
    let token = match (&settings.auth, token) {
        (_, Some(token)) => token.to_owned(),
        (VaultAuth::Token(token), None) => token.clone(),
        // Before the first AppRole login there is no token; login requests need none.
        (VaultAuth::AppRole { .. }, None) => String::new(),
    };
    let mut builder = VaultClientSettingsBuilder::default();
    builder.address(&settings.address).token(token).timeout(Some(REQUEST_TIMEOUT));
    if let Some(ca) = &settings.ca_cert {
        builder.ca_certs(vec![ca.display().to_string()]);
    }
    if let Some(namespace) = &settings.namespace {
        builder.namespace(Some(namespace.clone()));
    }
    let built = builder
        .build()
        .map_err(|e| StoreError::Unavailable(format!("invalid Vault client settings: {e}")))?;
    VaultClient::new(built).map_err(|e| StoreError::Unavailable(format!("cannot build the Vault client: {e}")))
}

fn join(prefix: &str, key: &str) -> String {
    match (prefix.is_empty(), key.is_empty()) {
        (true, _) => key.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}/{key}"),
    }
}

fn is_not_found(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::APIError { code: 404, .. }
            | ClientError::RestClientError {
                source: rustify::errors::ClientError::ServerResponseError { code: 404, .. }
            }
    )
}

fn is_cas_mismatch(e: &ClientError) -> bool {
    matches!(e, ClientError::APIError { code: 400, errors } if errors.iter().any(|m| m.contains("check-and-set")))
}

/// Vault's answer as a store error. Messages carry status codes and Vault's own error strings
/// (which name paths, never values), never the token.
fn map_error(e: ClientError) -> StoreError {
    match e {
        ClientError::APIError { code, errors } => {
            StoreError::Unavailable(format!("vault answered HTTP {code}: {}", errors.join("; ")))
        }
        ClientError::RestClientError {
            source: rustify::errors::ClientError::ServerResponseError { code, .. },
        } => StoreError::Unavailable(format!("vault answered HTTP {code}")),
        ClientError::RestClientError { source } => {
            StoreError::Unavailable(format!("vault unreachable: {}", error_chain(&source)))
        }
        ClientError::JsonParseError { .. } | ClientError::ResponseEmptyError | ClientError::ResponseDataEmptyError => {
            StoreError::Corrupt("vault returned an unexpected response".to_owned())
        }
        other => StoreError::Unavailable(format!("vault client error: {other}")),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
