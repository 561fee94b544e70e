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
//! Clusters (SPEC section 13): `VAULT_ADDR` may name any node of an HA cluster, or several.
//! Every request goes to the *active* node, found through `sys/leader` (unauthenticated): a
//! configured node that answers `is_self`, or else the `leader_address` a node reports, once that
//! node confirms it is the leader. OpenBao 2.x standbys answer reads from their own Raft replica,
//! which lags the leader: a read through a standby right after a write sees the old value (the
//! write's own gateway, or any other gateway, would then miss a certificate it just stored).
//! Consistency headers (`X-Vault-Index` with `X-Vault-Inconsistent`) only order one client's
//! own requests; the active node is consistent for every gateway at once, including for tokens
//! an AppRole login just created. A request that cannot reach its node, or gets a 5xx, makes the
//! store look for the leader again (one search at a time, at most every
//! `MIN_DISCOVERY_INTERVAL`); reads are then retried on the new leader, writes only when the
//! first attempt certainly never reached a node (connection refused), so an answer lost with the
//! old leader is 503, never a second, conflicting write. A background watch asks the node in use
//! every `LEADER_WATCH_INTERVAL` whether it still leads (a leader that stepped down keeps
//! answering, from its replica).
//!
//! Authentication: a fixed token (`VAULT_TOKEN`, renewed in the background when renewable), or
//! AppRole (`VAULT_ROLE_ID`/`VAULT_SECRET_ID`): log in at start, log in again at two thirds of
//! the lease, and once more on a 403 before giving up on a request.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::RwLock;
use futures_util::{StreamExt, TryStreamExt};
use vaultrs::api::kv2::requests::{ReadSecretRequest, SetSecretRequestOptions};
use vaultrs::api::kv2::responses::ReadSecretMetadataResponse;
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;

use super::{Expect, Store, StoreError, Versioned};
use super::VaultAuth;

/// How long one Vault request may take before the store counts as unavailable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Retry delay of the background login/renewal task after a failure.
const RETRY_DELAY: Duration = Duration::from_secs(5);
/// How long one `sys/leader` question may take (a node that does not answer in time is skipped).
const LEADER_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Fewest time between two searches for the leader: during an election, requests fail fast
/// (503) instead of each asking every node again.
const MIN_DISCOVERY_INTERVAL: Duration = Duration::from_millis(250);
/// How often the node in use is asked whether it still leads.
const LEADER_WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// Settings to reach Vault (from [`super::StoreConfig::Vault`]).
#[derive(Clone)]
pub struct VaultSettings {
    /// `VAULT_ADDR`: one or more nodes of the cluster (at least one).
    pub addresses: Vec<String>,
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
    /// The node requests go to, with a client holding the current token.
    route: RwLock<Arc<Route>>,
    /// The current token (empty before the first AppRole login).
    token: std::sync::RwLock<zeroize::Zeroizing<String>>,
    /// Plain HTTP client with Vault's TLS settings, for `sys/leader` on any node.
    probe: reqwest::Client,
    /// Serialises searches for the leader; holds when the last one started.
    discovery: tokio::sync::Mutex<Option<Instant>>,
}

/// Where requests go: a node's address and a client for it.
struct Route {
    address: String,
    client: Arc<VaultClient>,
}

/// Whether a request may be sent again after its node failed.
#[derive(Clone, Copy)]
enum Retry {
    /// Reads and idempotent writes: always (on the new leader).
    Always,
    /// Other writes: only when the first attempt never reached a node.
    IfNotSent,
}

impl VaultStore {
    /// Connects and logs in. An unreachable Vault is not fatal (requests answer
    /// [`StoreError::Unavailable`] and login is retried), but credentials that Vault refuses are.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] naming the setting when the client cannot be built or the
    /// AppRole credentials are refused.
    pub async fn open(settings: VaultSettings) -> Result<Self, StoreError> {
        let first = settings
            .addresses
            .first()
            .cloned()
            .ok_or_else(|| StoreError::Unavailable("VAULT_ADDR names no node".to_owned()))?;
        let initial_token = match &settings.auth {
            VaultAuth::Token(token) => token.clone(),
            // Before the first AppRole login there is no token; login requests need none.
            VaultAuth::AppRole { .. } => String::new(),
        };
        let client = build_client(&settings, &first, &initial_token)?;
        let probe = client.http.http.clone();
        let inner = Arc::new(Inner {
            route: RwLock::new(Arc::new(Route { address: first, client: Arc::new(client) })),
            token: std::sync::RwLock::new(zeroize::Zeroizing::new(initial_token)),
            probe,
            discovery: tokio::sync::Mutex::new(None),
            settings,
        });
        // Find the leader before the first request; an election or a cluster still starting is
        // not fatal (requests answer 503 and the watch keeps looking).
        if let Err(e) = inner.move_to_leader().await {
            tracing::warn!(error = %e, "no active vault node yet; looking again in the background");
        }
        spawn_leader_watch(Arc::downgrade(&inner));
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

    /// Runs `op` on the active node (see the module docs for failover and `retry`); on a
    /// permission error with AppRole, logs in again and retries once (the token may have expired
    /// while the process was suspended).
    async fn with_client<T, F, Fut>(&self, retry: Retry, op: F) -> Result<T, ClientError>
    where
        F: Fn(Arc<VaultClient>) -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        let route = self.inner.route.read().await.clone();
        let result = match op(route.client.clone()).await {
            Err(e) if node_failed(&e) => {
                let moved = self.inner.reroute(&route).await;
                match moved {
                    Ok(new) if matches!(retry, Retry::Always) || never_sent(&e) => op(new.client.clone()).await,
                    _ => Err(e),
                }
            }
            other => other,
        };
        match result {
            Err(ClientError::APIError { code: 403, .. })
                if matches!(self.inner.settings.auth, VaultAuth::AppRole { .. }) =>
            {
                if self.inner.login().await.is_ok() {
                    let client = self.inner.client().await;
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
        // Destroying versions twice destroys nothing more: safe to send again.
        let result = self
            .with_client(Retry::Always, |client| {
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
            .with_client(Retry::Always, |client| {
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
            .with_client(Retry::IfNotSent, |client| {
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
            .with_client(Retry::Always, |client| {
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
            .with_client(Retry::Always, |client| {
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
                let client = self.client().await;
                match vaultrs::auth::approle::login(client.as_ref(), mount, role_id, secret_id).await {
                    Ok(auth) => {
                        self.set_token(auth.client_token).await.map_err(|e| LoginError::Refused(e.to_string()))?;
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
                let client = self.client().await;
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
            let client = self.client().await;
            return match vaultrs::token::renew_self(client.as_ref(), None).await {
                Ok(auth) => Ok(renew_after(auth.lease_duration)),
                Err(e) => Err(LoginError::Unreachable(map_error(e).to_string())),
            };
        }
        self.login().await
    }
}

// === impl Inner: the active node ===

/// What a node says of the cluster's leader (`GET /v1/sys/leader`, unauthenticated).
#[derive(Debug, serde::Deserialize)]
struct LeaderStatus {
    ha_enabled: bool,
    #[serde(default)]
    is_self: bool,
    #[serde(default)]
    leader_address: String,
}

impl Inner {
    /// The client of the node in use.
    async fn client(&self) -> Arc<VaultClient> {
        self.route.read().await.client.clone()
    }

    /// Keeps `token` for every later request (and a later move to another node).
    async fn set_token(&self, token: String) -> Result<(), StoreError> {
        let mut route = self.route.write().await;
        let client = build_client(&self.settings, &route.address, &token)?;
        *route = Arc::new(Route { address: route.address.clone(), client: Arc::new(client) });
        *self.token.write().unwrap_or_else(std::sync::PoisonError::into_inner) = zeroize::Zeroizing::new(token);
        Ok(())
    }

    /// After `failed` (the route a request used) failed: the route to the leader, searched
    /// again unless another request already moved on. One search at a time, and none sooner
    /// than [`MIN_DISCOVERY_INTERVAL`] after the last: meanwhile the answer is "unavailable".
    async fn reroute(&self, failed: &Arc<Route>) -> Result<Arc<Route>, StoreError> {
        let mut last = self.discovery.lock().await;
        let current = self.route.read().await.clone();
        if !Arc::ptr_eq(&current, failed) {
            return Ok(current);
        }
        if last.is_some_and(|at| at.elapsed() < MIN_DISCOVERY_INTERVAL) {
            return Err(no_leader());
        }
        *last = Some(Instant::now());
        drop(last);
        self.move_to_leader().await
    }

    /// Finds the leader and sends every later request there.
    async fn move_to_leader(&self) -> Result<Arc<Route>, StoreError> {
        let address = self.find_leader().await?;
        let mut route = self.route.write().await;
        if route.address != address {
            let token = self.token.read().unwrap_or_else(std::sync::PoisonError::into_inner).to_string();
            let client = build_client(&self.settings, &address, &token)?;
            tracing::info!(from = %route.address, to = %address, "vault requests now go to the active node");
            *route = Arc::new(Route { address, client: Arc::new(client) });
        }
        Ok(route.clone())
    }

    /// The active node's address: a configured node that says it leads (or a node without HA,
    /// which serves everything itself), else the leader a configured node names, once that node
    /// confirms it.
    async fn find_leader(&self) -> Result<String, StoreError> {
        let nodes = &self.settings.addresses;
        let answers = futures_util::future::join_all(nodes.iter().map(|node| self.leader_status(node))).await;
        let mut named: Vec<String> = Vec::new();
        for (node, answer) in nodes.iter().zip(answers) {
            match answer {
                Some(status) if !status.ha_enabled || status.is_self => return Ok(node.clone()),
                Some(status) => {
                    let leader = status.leader_address.trim_end_matches('/').to_owned();
                    if !leader.is_empty() && !nodes.contains(&leader) && !named.contains(&leader) {
                        named.push(leader);
                    }
                }
                None => {}
            }
        }
        for leader in named {
            if self.leader_status(&leader).await.is_some_and(|status| status.is_self) {
                return Ok(leader);
            }
        }
        Err(no_leader())
    }

    /// `sys/leader` of one node; `None` when it does not answer with one in time.
    async fn leader_status(&self, node: &str) -> Option<LeaderStatus> {
        let response = self
            .probe
            .get(format!("{node}/v1/sys/leader"))
            .timeout(LEADER_PROBE_TIMEOUT)
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let body = response.bytes().await.ok()?;
        serde_json::from_slice(&body).ok()
    }

    /// Whether the node in use still leads (a leader can step down and keep answering).
    async fn route_still_leads(&self) -> bool {
        let address = self.route.read().await.address.clone();
        self.leader_status(&address).await.is_some_and(|status| !status.ha_enabled || status.is_self)
    }
}

fn no_leader() -> StoreError {
    StoreError::Unavailable("no active vault node answers (leader election under way, or nodes down)".to_owned())
}

/// Every [`LEADER_WATCH_INTERVAL`], checks that the node in use still leads, and moves to the
/// leader otherwise. Ends when the store is dropped.
fn spawn_leader_watch(inner: Weak<Inner>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(LEADER_WATCH_INTERVAL).await;
            let Some(inner) = inner.upgrade() else { return };
            if !inner.route_still_leads().await
                && let Err(e) = inner.move_to_leader().await
            {
                tracing::debug!(error = %e, "vault leader not found yet");
            }
        }
    });
}

/// The node could not serve the request: unreachable, or a server-side failure (a standby
/// without a leader, a node sealing or stepping down). Another node may be the leader now.
fn node_failed(e: &ClientError) -> bool {
    match e {
        ClientError::APIError { code, .. } => *code >= 500,
        ClientError::RestClientError { source } => match source {
            rustify::errors::ClientError::ServerResponseError { code, .. } => *code >= 500,
            rustify::errors::ClientError::RequestError { .. } => true,
            _ => false,
        },
        _ => false,
    }
}

/// The request never reached a node (the connection was refused or could not be made), so it
/// cannot have been applied: safe to send to the new leader even when it writes.
fn never_sent(e: &ClientError) -> bool {
    let ClientError::RestClientError { source: rustify::errors::ClientError::RequestError { source, .. } } = e else {
        return false;
    };
    source.chain().any(|cause| cause.downcast_ref::<reqwest::Error>().is_some_and(reqwest::Error::is_connect))
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

fn build_client(settings: &VaultSettings, address: &str, token: &str) -> Result<VaultClient, StoreError> {
    let mut builder = VaultClientSettingsBuilder::default();
    builder.address(address).token(token).timeout(Some(REQUEST_TIMEOUT));
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

/// KV's "no such key" (404 with an empty error list, or with the metadata of a destroyed
/// version). A 404 that names an error, such as "no handler for route" from a node whose mounts
/// are not loaded yet, is not an answer about the key.
fn is_not_found(e: &ClientError) -> bool {
    match e {
        ClientError::APIError { code: 404, errors } => errors.is_empty(),
        ClientError::RestClientError { source: rustify::errors::ClientError::ServerResponseError { code: 404, .. } } => true,
        _ => false,
    }
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
