//! What a crashed gateway leaves in the store, and how the others recover, on the embedded store
//! and a real OpenBao. The crash is simulated at the store level: the test writes exactly what
//! a process that died between two writes leaves behind (a claim without its record, secrets
//! without their certificate), then drives the real services over the same store.
//!
//! Run: `cargo test -p mtls-server --test crash_leftovers` (needs `bao` and `openssl` on PATH).

mod support;

use std::path::Path;
use std::sync::Arc;

use mtls_server::certificates::{CertificateError, CertificateService, Upload};
use mtls_server::clock;
use mtls_server::store::VaultAuth;
use mtls_server::mappings::MappingService;
use mtls_server::store::embedded::{DataKey, EmbeddedStore};
use mtls_server::store::vault::{VaultSettings, VaultStore};
use mtls_server::store::{claim, segment, Expect, Store};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::{OpenBao, TempDir};
use zeroize::Zeroizing;

const ACCOUNT: &str = "acc-crash";
const PASSWORD: &str = "p12-Password-4f9e";
/// The process id of the crashed gateway (as in its claims and its lease key).
const CRASHED: &str = "c0ffee00c0ffee00";

struct Backend {
    store: Arc<dyn Store>,
    embedded: bool,
    dir: TempDir,
    _bao: Option<OpenBao>,
}

impl Backend {
    async fn embedded() -> Self {
        let dir = TempDir::new("crash");
        let store = EmbeddedStore::open(&dir.path().join("data"), DataKey::File).expect("open embedded store");
        Self { store: Arc::new(store), embedded: true, dir, _bao: None }
    }

    async fn openbao() -> Self {
        let bao = OpenBao::start();
        mtls_server::tls::install_crypto_provider();
        let settings = VaultSettings {
            addresses: vec![bao.addr()],
            auth: VaultAuth::Token(bao.token().to_owned()),
            mount: "secret".to_owned(),
            prefix: format!("mtls-test/{}", support::random_token()),
            ca_cert: None,
            namespace: None,
        };
        let store = VaultStore::open(settings).await.expect("open vault store");
        Self { store: Arc::new(store), embedded: false, dir: TempDir::new("crash"), _bao: Some(bao) }
    }

    fn certificates(&self) -> Arc<CertificateService> {
        Arc::new(CertificateService::new(self.store.clone()))
    }

    fn mappings(&self) -> MappingService {
        MappingService::new(self.store.clone(), self.certificates(), vec![("IDP".to_owned(), 1)], false)
    }

    async fn upload(&self, name: &str) -> Result<u64, String> {
        let upload = Upload {
            name: Some(name.to_owned()),
            display_name: None,
            p12: Zeroizing::new(make_p12(self.dir.path(), name)),
            password: Zeroizing::new(PASSWORD.to_owned()),
        };
        let inspector = mtls_server::certificates::P12Inspector::with_limits(1, 1_000_000, 3_000_000);
        match self.certificates().create_many(ACCOUNT, vec![upload], &inspector).await {
            Ok(outcome) => outcome.saved.first().map(|c| c.id).ok_or_else(|| format!("{outcome:?}")),
            Err(error) => Err(refusal(&error)),
        }
    }

    async fn put(&self, key: &str, value: Value) {
        self.store.write(key, &value, Expect::Any).await.expect("store write");
    }
}

fn crashed_claim(id: u64) -> Value {
    json!({"id": id, "claimedAt": clock::now_unix(), "owner": CRASHED})
}

fn certificate_name_key(name: &str) -> String {
    format!("certificate-names/{}/{}", segment(ACCOUNT), segment(name))
}

fn mapping_name_key(name: &str) -> String {
    format!("mappings/{}/names/{}", segment(ACCOUNT), hex::encode(Sha256::digest(name.as_bytes())))
}

/// The code the API answers for the refusal these tests expect (`duplicate_certificate_name`),
/// else the error's text.
fn refusal(error: &CertificateError) -> String {
    match error {
        CertificateError::Item { source, .. } => refusal(source),
        CertificateError::DuplicateName { .. } => "duplicate_certificate_name".to_owned(),
        other => other.to_string(),
    }
}

/// A create that crashed between its claims and its record was never acknowledged, so the client
/// retries at once: the names must be free then (they answered 409 for 60 s).
async fn names_claimed_by_a_crashed_instance_are_free_at_once(backend: Backend) {
    // The crashed process's lease is gone (expired, or dropped when the exclusive store reopened).
    backend.put(&certificate_name_key("retried"), crashed_claim(4242)).await;
    let cert = backend.upload("retried").await.expect("the retried certificate create succeeds");
    backend.put(&mapping_name_key("retried-mapping"), crashed_claim(4343)).await;
    let item = json!([{"name": "retried-mapping", "certificationId": cert, "serviceId": "1",
                       "url": "https://retried.example.com/"}]);
    let created = backend.mappings().create(ACCOUNT, &item).await.expect("the retried mapping create succeeds");
    assert_eq!(created[0].name, "retried-mapping");
    // A create in flight in this process is respected.
    let here = json!({"id": 4444, "claimedAt": clock::now_unix(), "owner": claim::this_process()});
    backend.put(&certificate_name_key("in-flight"), here).await;
    assert_eq!(backend.upload("in-flight").await, Err("duplicate_certificate_name".to_owned()));
    if !backend.embedded {
        // So is one of another live instance (fresh lease) sharing OpenBao.
        backend.put("instances/a11ce0000000000", json!({"renewedAt": clock::now_unix()})).await;
        let there = json!({"id": 4646, "claimedAt": clock::now_unix(), "owner": "a11ce0000000000"});
        backend.put(&certificate_name_key("in-flight-there"), there).await;
        assert_eq!(backend.upload("in-flight-there").await, Err("duplicate_certificate_name".to_owned()));
    }
}

/// A gateway restarted on the embedded store owns it alone (lock file): the crashed run's claims
/// are free at once, even with a lease (left by an earlier version). On OpenBao another instance
/// may be alive, so a fresh lease is respected until it expires.
async fn a_restart_frees_the_crashed_runs_claims_on_the_exclusive_store(backend: Backend) {
    backend.put(&format!("instances/{CRASHED}"), json!({"renewedAt": clock::now_unix()})).await;
    backend.put(&certificate_name_key("after-restart"), crashed_claim(4545)).await;
    claim::keep_lease(backend.store.clone()).await;
    let outcome = backend.upload("after-restart").await;
    if backend.embedded {
        assert!(outcome.is_ok(), "{outcome:?}");
    } else {
        assert_eq!(outcome, Err("duplicate_certificate_name".to_owned()));
    }
}

/// Secrets written by uploads that crashed before their metadata (never acknowledged) used to
/// stay in the store for ever; the sweep deletes them once past the grace period, and keeps
/// everything a certificate points at or a create in flight may still commit.
async fn secrets_of_unacknowledged_uploads_are_swept(backend: Backend) {
    let live = backend.upload("live").await.unwrap();
    let secrets = |id: u64, version: u32| format!("certificate-secrets/{}/{id}/{version}", segment(ACCOUNT));
    let old = clock::now_unix() - i64::try_from(claim::CLAIM_GRACE.as_secs()).unwrap() - 1;
    let leftover = json!({"p12": "AAAA", "password": "x", "privateKeyPkcs8": "AAAA", "chain": [], "storedAt": old});
    backend.put(&secrets(777, 1), leftover.clone()).await; // crashed create
    backend.put(&secrets(live, 0), leftover.clone()).await; // superseded, kept by a crash
    let mut young = leftover.clone();
    young["storedAt"] = json!(clock::now_unix());
    backend.put(&secrets(778, 1), young).await; // a create in flight
    let mut legacy = leftover;
    legacy.as_object_mut().unwrap().remove("storedAt");
    backend.put(&secrets(779, 1), legacy).await; // written before secrets carried their time

    let swept = backend.certificates().sweep_orphan_secrets().await.unwrap();
    assert_eq!(swept, 3);
    for (id, version, kept) in [(777, 1, false), (live, 0, false), (778, 1, true), (779, 1, false), (live, 1, true)] {
        assert_eq!(backend.store.read(&secrets(id, version)).await.unwrap().is_some(), kept, "{id}/{version}");
    }
    let material = backend.certificates().client_material(ACCOUNT, live).await.unwrap();
    assert!(material.is_some(), "the live certificate still has its secrets");
}

/// A usable client-certificate P12 protected by this file's password.
fn make_p12(dir: &Path, cn: &str) -> Vec<u8> {
    support::make_client_p12(dir, cn, PASSWORD)
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test] async fn $name() { super::$name(super::Backend::embedded().await).await })*
        }
        mod openbao {
            $(#[tokio::test] async fn $name() { super::$name(super::Backend::openbao().await).await })*
        }
    };
}

on_both_stores!(
    names_claimed_by_a_crashed_instance_are_free_at_once,
    a_restart_frees_the_crashed_runs_claims_on_the_exclusive_store,
    secrets_of_unacknowledged_uploads_are_swept,
);
