//! The audit trail (SPEC section 12) on the real stores, through the built binary: records for
//! changes made through two gateway instances on one OpenBao (and one on the embedded store),
//! each with the caller's request id; paging with cursors; records of racing changes each
//! once; the keys the trail uses in OpenBao; and, with an AppRole policy that denies the
//! trail's keys, changes that fail and do not happen. No secret in any record.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod harness;
mod stock_oauth1;
mod support;

use std::time::Duration;

use base64::Engine as _;
use harness::{make_p12, Api, Backend, Cred, World};
use serde_json::{json, Value};
use support::{Gateway, StoreKind};

fn request_id(headers: &reqwest::header::HeaderMap) -> String {
    headers["x-request-id"].to_str().unwrap().to_owned()
}

/// Every record of `path` (an audit trail), newest first, read two at a time.
async fn read_all(api: &Api, cred: &Cred, path: &str) -> Vec<Value> {
    let mut records = Vec::new();
    let mut query = "limit=2".to_owned();
    loop {
        let (status, _, page) = api.send("GET", &format!("{path}?{query}"), cred, None).await;
        assert_eq!(status, 200, "{page}");
        let batch = page["records"].as_array().unwrap();
        assert!(batch.len() <= 2);
        records.extend(batch.iter().cloned());
        match page["nextCursor"].as_str() {
            Some(cursor) => query = format!("limit=2&cursor={cursor}"),
            None => return records,
        }
    }
}

async fn changes_are_on_record(backend: Backend) {
    let world = World::start_with(backend, 2, Duration::from_secs(300)).await;
    let account = world.account("acc-audit").await;
    let first = &world.gateways[0];
    let last = &world.gateways[world.gateways.len() - 1];
    let p12 = base64::engine::general_purpose::STANDARD.encode(make_p12("audited", "p12-password"));
    let (status, headers, created) = first
        .send("POST", "/mtls/account/acc-audit/certificates", &account.bearer, Some(json!([{"name": "audited", "p12": p12, "password": "p12-password"}])))
        .await;
    assert_eq!(status, 201, "{created}");
    let certificate = created["successfulySavedCertificates"][0]["id"].as_u64().unwrap();
    let mut expected = vec![("certificate.create", request_id(&headers), Some(certificate.to_string()), "bearer")];
    let (status, headers, mapped) = last
        .send("POST", "/api/account/acc-audit/configuration/ac-common/mtls?v=3.0", &account.oauth,
            Some(json!([{"certificationId": certificate, "serviceId": "2", "url": "https://audit.example.com/a", "name": "audited-map", "enable": true}])))
        .await;
    assert_eq!(status, 201, "{mapped}");
    let mapping = mapped[0]["id"].as_u64().unwrap();
    expected.push(("mapping.create", request_id(&headers), Some(mapping.to_string()), "oauth1"));
    let (status, headers, _) = first
        .send("DELETE", &format!("/api/account/acc-audit/configuration/ac-common/mtls/{mapping}"), &account.bearer, None)
        .await;
    assert_eq!(status, 200);
    expected.push(("mapping.delete", request_id(&headers), Some(mapping.to_string()), "bearer"));
    let (status, headers, _) = last
        .send("DELETE", &format!("/mtls/account/acc-audit/certificates/{certificate}"), &account.oauth, None)
        .await;
    assert_eq!(status, 200);
    expected.push(("certificate.delete", request_id(&headers), Some(certificate.to_string()), "oauth1"));
    expected.reverse();

    for api in &world.gateways {
        let records = read_all(api, &account.bearer, "/mtls/account/acc-audit/audit").await;
        let got: Vec<(&str, String, Option<String>, &str)> = records
            .iter()
            .map(|r| (r["action"].as_str().unwrap(), r["requestId"].as_str().unwrap().to_owned(),
                r["resource"]["id"].as_str().map(str::to_owned), r["actor"]["scheme"].as_str().unwrap()))
            .collect();
        let want: Vec<(&str, String, Option<String>, &str)> = expected.iter().map(|(a, r, i, s)| (*a, r.clone(), i.clone(), *s)).collect();
        assert_eq!(got, want);
        let text = Value::Array(records).to_string();
        assert!(!text.contains("p12-password") && !text.contains(&p12[..64]));
        if let Cred::Bearer(token) = &account.bearer {
            assert!(!text.contains(token.as_str()));
        }
    }
    // The admin trail has these and the credentials issued for the account.
    let admin = Cred::Bearer(first.gateway.admin_token().to_owned());
    let all = read_all(last, &admin, "/admin/audit").await;
    let actions: Vec<&str> = all.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["certificate.delete", "mapping.delete", "mapping.create", "certificate.create", "app_key.create", "token.issue"]);
    if backend == Backend::Vault {
        assert!(world.vault_has("audit/heads/all"));
        assert!(world.vault_has(&format!("audit/accounts/{}/4", hex::encode("acc-audit"))));
    }
}

#[tokio::test]
async fn changes_through_two_instances_are_on_record_on_openbao() {
    changes_are_on_record(Backend::Vault).await;
}

#[tokio::test]
async fn changes_are_on_record_on_the_embedded_store() {
    changes_are_on_record(Backend::Embedded).await;
}

#[tokio::test]
async fn racing_changes_on_two_instances_each_get_one_record() {
    let world = World::start_with(Backend::Vault, 2, Duration::from_secs(300)).await;
    let account = world.account("acc-race").await;
    // Mapping creates: cheap enough to really overlap (P12 inspections are bounded per instance).
    let certificate = world.gateways[0].upload_certificate(&account.bearer, "acc-race", "racer").await;
    let creates = (0..8).map(|n| {
        let api = &world.gateways[n % 2];
        let body = json!([{"certificationId": certificate, "serviceId": "2", "url": format!("https://race.example.com/{n}"), "name": format!("racer-{n}"), "enable": true}]);
        let cred = account.bearer.clone();
        async move {
            let (status, headers, body) = api.send("POST", "/api/account/acc-race/configuration/ac-common/mtls?v=3.0", &cred, Some(body)).await;
            assert_eq!(status, 201, "{body}");
            request_id(&headers)
        }
    });
    let mut ids = futures_util::future::join_all(creates).await;
    let records = read_all(&world.gateways[0], &account.bearer, "/mtls/account/acc-race/audit").await;
    let mut recorded: Vec<String> = records.iter().filter(|r| r["action"] == "mapping.create").map(|r| r["requestId"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    recorded.sort();
    assert_eq!(recorded, ids, "each change once");
}

#[tokio::test]
async fn with_the_trail_denied_by_policy_changes_fail_and_do_not_happen() {
    let world = World::start_with(Backend::Vault, 1, Duration::from_secs(300)).await;
    let account = world.account("acc-denied").await;
    let api = &world.gateways[0];
    let certificate = api.upload_certificate(&account.bearer, "acc-denied", "kept").await;
    let bao = world.openbao.as_ref().unwrap();
    let prefix = &world.prefix;
    bao.write_policy_hcl("no-audit", &format!(r#"
path "secret/data/{prefix}/*"     {{ capabilities = ["create", "read", "update"] }}
path "secret/destroy/{prefix}/*"  {{ capabilities = ["update"] }}
path "secret/metadata/{prefix}/*" {{ capabilities = ["read", "list", "delete"] }}
path "secret/metadata/{prefix}"   {{ capabilities = ["list"] }}
path "secret/data/{prefix}/audit/*" {{ capabilities = ["deny"] }}
"#));
    let (role_id, secret_id) = bao.create_approle_with_policy("no-audit", "no-audit", "1h");
    let admin = api.gateway.admin_token().to_owned();
    let denied = Gateway::spawn_on(StoreKind::Vault(bao), &[
        ("VAULT_TOKEN", ""), ("VAULT_ROLE_ID", &role_id), ("VAULT_SECRET_ID", &secret_id),
        ("MTLS_VAULT_PREFIX", prefix), ("MTLS_ADMIN_TOKEN", &admin),
    ]);
    let denied = Api::new(denied);
    let p12 = base64::engine::general_purpose::STANDARD.encode(make_p12("lost", "p12-password"));
    for (method, path, body) in [
        ("POST", "/mtls/account/acc-denied/certificates".to_owned(), Some(json!([{"name": "lost", "p12": p12, "password": "p12-password"}]))),
        ("DELETE", format!("/mtls/account/acc-denied/certificates/{certificate}"), None),
        ("POST", "/api/account/acc-denied/configuration/ac-common/mtls?v=3.0".to_owned(),
            Some(json!([{"certificationId": certificate, "serviceId": "2", "url": "https://lost.example.com/", "name": "lost", "enable": true}]))),
    ] {
        let (status, _, body) = denied.send(method, &path, &account.bearer, body).await;
        assert_eq!((status, body["error"]["code"].as_str()), (503, Some("store_unavailable")), "{method} {path}: {body}");
    }
    let (status, _, body) = denied.send("POST", "/admin/tokens", &Cred::Bearer(admin.clone()), Some(json!({"sub": "lost", "accounts": ["acc-denied"]}))).await;
    assert_eq!(status, 503, "{body}");
    // Nothing happened: the one certificate is there, unchanged, and no mapping.
    let (_, _, list) = api.send("GET", "/mtls/account/acc-denied/certificates", &account.bearer, None).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"].as_u64(), Some(certificate));
    let (_, _, mappings) = api.send("GET", "/api/account/acc-denied/configuration/ac-common/mtls", &account.bearer, None).await;
    assert_eq!(mappings, json!([]));
    let records = read_all(api, &account.bearer, "/mtls/account/acc-denied/audit").await;
    assert_eq!(records.len(), 1, "only the upload that happened");
}
