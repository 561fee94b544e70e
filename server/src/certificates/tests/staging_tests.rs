//! Staged rotation (SPEC section 12) through the production routes over the memory store:
//! `activateAt` on both replace forms, the `pending` field, cancel, what a replace or a delete
//! does meanwhile, and the switch seen by the runtime. The same across two real gateway
//! processes on OpenBao is `server/tests/staged_rotation.rs`.

use super::*;
use crate::clock;
use crate::store::Store as _;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn upload(app: &impl actix_web::dev::Service<actix_http::Request, Response = actix_web::dev::ServiceResponse, Error = actix_web::Error>, f: &Fixture, name: &str) -> Value {
    let body = json!([{ "name": name, "p12": B64.encode(f.p12(name)), "password": PASSWORD }]);
    let (status, created, text) = call(app, test::TestRequest::post().uri("/mtls/account/acc1/certificates").insert_header(("Authorization", f.bearer.clone())).set_json(&body)).await;
    assert_eq!(status, 201, "{text}");
    created["successfulySavedCertificates"][0].clone()
}

fn in_millis(delta: i64) -> String {
    clock::format_rfc3339_millis(clock::now_unix_millis() + delta)
}

#[actix_web::test]
async fn a_staged_replacement_is_pending_until_its_instant_then_current() {
    let f = Fixture::new().await;
    let app = app!(f);
    let original = upload(&app, &f, "stage-a").await;
    let id = original["id"].as_u64().unwrap();
    let mapping = json!([{ "certificationId": id, "serviceId": "2", "url": "https://hooks.example.com/x", "name": "m", "enable": true }]);
    let (status, _, text) = call(&app, test::TestRequest::post().uri("/api/account/acc1/configuration/ac-common/mtls?v=3.0").insert_header(("Authorization", f.bearer.clone())).set_json(&mapping)).await;
    assert_eq!(status, 201, "{text}");

    let activate_at = clock::now_unix_millis() + 1500;
    let next = f.p12("stage-a2");
    let body = json!({ "p12": B64.encode(&next), "password": PASSWORD, "activateAt": clock::format_rfc3339_millis(activate_at) });
    let (status, staged, text) = call(&app, test::TestRequest::put().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone())).set_json(&body)).await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains(PASSWORD));
    assert_eq!(staged["version"], 1, "the current version stays until activateAt");
    assert_eq!(staged["fingerprintSha256"], original["fingerprintSha256"]);
    let pending = &staged["pending"];
    assert_eq!(pending["version"], 2);
    assert_eq!(pending["activateAt"], clock::format_rfc3339_millis(activate_at));
    assert_eq!(pending["subject"], "CN=stage-a2");
    assert_ne!(pending["fingerprintSha256"], original["fingerprintSha256"]);
    assert!(pending["expirationDate"].as_str().is_some_and(|d| clock::parse_rfc3339(d).is_some()));
    let (_, got, _) = call(&app, test::TestRequest::get().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone()))).await;
    // The replace answer alone carries the new file's `warnings` (never stored).
    let mut answered = staged.clone();
    answered.as_object_mut().unwrap().remove("warnings");
    assert_eq!(got, answered);

    // The runtime knows both versions in advance and presents the current one for now.
    let found = f.state.runtime.find("acc1", Some(2), "https://hooks.example.com/x").await.unwrap().unwrap();
    assert_eq!(found.material.version, 1);
    let switch = found.pending.clone().expect("the staged version travels with the match");
    assert_eq!((switch.activate_at_millis, switch.material.version), (activate_at, 2));
    assert_eq!(found.clone().at(activate_at - 1).material.version, 1);
    assert_eq!(found.at(activate_at).material.version, 2);

    // Past the instant (a wait for a deadline, not a race): every reader sees version 2.
    let wait = activate_at + 20 - clock::now_unix_millis();
    tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
    let (_, now, _) = call(&app, test::TestRequest::get().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone()))).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["fingerprintSha256"], pending["fingerprintSha256"]);
    assert!(now.get("pending").is_none(), "{now}");
    let found = f.state.runtime.find("acc1", Some(2), "https://hooks.example.com/x").await.unwrap().unwrap();
    assert_eq!(found.material.version, 2, "the cached entry switched by itself");
    assert_eq!(f.state.certificates.client_material("acc1", id).await.unwrap().unwrap().version, 2);
    let (status, body, _) = call(&app, test::TestRequest::delete().uri(&format!("/mtls/account/acc1/certificates/{id}/pending")).insert_header(("Authorization", f.bearer.clone()))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("pending_version_not_found")));

    // A plain replace now persists the promotion and becomes version 3.
    let body = json!({ "p12": B64.encode(f.p12("stage-a3")), "password": PASSWORD });
    let (status, third, text) = call(&app, test::TestRequest::put().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone())).set_json(&body)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(third["version"], 3);
}

#[actix_web::test]
async fn activate_at_must_be_a_future_rfc3339_instant_on_both_replace_forms() {
    let f = Fixture::new().await;
    let app = app!(f);
    let id = upload(&app, &f, "stage-b").await["id"].as_u64().unwrap();
    let next = B64.encode(f.p12("stage-b2"));
    for (activate_at, why) in [
        (json!(in_millis(-1000)), "past"),
        (json!("2030-13-01T00:00:00Z"), "not a date"),
        (json!("tomorrow"), "garbage"),
        (json!(1_900_000_000), "a number"),
    ] {
        let body = json!({ "p12": next, "password": PASSWORD, "activateAt": activate_at });
        let (status, err, text) = call(&app, test::TestRequest::put().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone())).set_json(&body)).await;
        assert_eq!((status, err["error"]["code"].as_str()), (400, Some("invalid_activate_at")), "{why}: {text}");
        let fields = json!({ "id": id, "password": PASSWORD, "activateAt": activate_at }).to_string();
        let (content_type, form) = multipart(&[("file", &B64.decode(&next).unwrap()), ("certificate", fields.as_bytes())]);
        let (status, err, text) = call(&app, test::TestRequest::put().uri("/mtls/account/acc1/certificates/by-file").insert_header(("Authorization", f.bearer.clone())).insert_header(("Content-Type", content_type)).set_payload(form)).await;
        assert_eq!((status, err["error"]["code"].as_str()), (400, Some("invalid_activate_at")), "by-file {why}: {text}");
    }
    let (_, got, _) = call(&app, test::TestRequest::get().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone()))).await;
    assert_eq!(got["version"], 1);
    assert!(got.get("pending").is_none());
    // An unusable staged file is refused like any replacement.
    let body = json!({ "p12": B64.encode(b"not a p12"), "password": PASSWORD, "activateAt": in_millis(60_000) });
    let (status, err, _) = call(&app, test::TestRequest::put().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone())).set_json(&body)).await;
    assert_eq!((status, err["error"]["code"].as_str()), (422, Some("p12_not_usable")));
}

#[actix_web::test]
async fn while_staged_replaces_are_refused_cancel_discards_and_delete_takes_both_versions() {
    let f = Fixture::new().await;
    let app = app!(f);
    let id = upload(&app, &f, "stage-c").await["id"].as_u64().unwrap();
    let fields = json!({ "id": id, "password": PASSWORD, "activateAt": in_millis(3_600_000) }).to_string();
    let (content_type, form) = multipart(&[("file", &f.p12("stage-c2")), ("certificate", fields.as_bytes())]);
    let (status, staged, text) = call(&app, test::TestRequest::put().uri("/mtls/account/acc1/certificates/by-file").insert_header(("Authorization", f.bearer.clone())).insert_header(("Content-Type", content_type)).set_payload(form)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(staged["successfulySavedCertificates"][0]["pending"]["version"], 2);
    assert!(f.store.read(&crate::certificates::secrets_key("acc1", id, 2)).await.unwrap().is_some());

    for activate_at in [Value::Null, json!(in_millis(7_200_000))] {
        let body = json!({ "p12": B64.encode(f.p12("stage-c3")), "password": PASSWORD, "activateAt": activate_at });
        let (status, err, _) = call(&app, test::TestRequest::put().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone())).set_json(&body)).await;
        assert_eq!((status, err["error"]["code"].as_str()), (409, Some("rotation_pending")));
        assert_eq!(err["error"]["details"]["pendingVersion"], 2);
    }

    let (status, cancelled, text) = call(&app, test::TestRequest::delete().uri(&format!("/mtls/account/acc1/certificates/{id}/pending")).insert_header(("Authorization", f.bearer.clone()))).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(cancelled["version"], 1);
    assert!(cancelled.get("pending").is_none());
    assert!(f.store.read(&crate::certificates::secrets_key("acc1", id, 2)).await.unwrap().is_none(), "cancelled secrets are deleted");
    let (status, err, _) = call(&app, test::TestRequest::delete().uri(&format!("/mtls/account/acc1/certificates/{id}/pending")).insert_header(("Authorization", f.bearer.clone()))).await;
    assert_eq!((status, err["error"]["code"].as_str()), (404, Some("pending_version_not_found")));
    let (status, err, _) = call(&app, test::TestRequest::delete().uri("/mtls/account/acc1/certificates/12345/pending").insert_header(("Authorization", f.bearer.clone()))).await;
    assert_eq!((status, err["error"]["code"].as_str()), (404, Some("certificate_not_found")));

    // Stage again, then delete the certificate: both versions' secrets go.
    let body = json!({ "p12": B64.encode(f.p12("stage-c4")), "password": PASSWORD, "activateAt": in_millis(3_600_000) });
    let (status, _, text) = call(&app, test::TestRequest::put().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone())).set_json(&body)).await;
    assert_eq!(status, 200, "{text}");
    let (status, _, text) = call(&app, test::TestRequest::delete().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone()))).await;
    assert_eq!(status, 200, "{text}");
    for version in [1, 2] {
        assert!(f.store.read(&crate::certificates::secrets_key("acc1", id, version)).await.unwrap().is_none());
    }
}

#[actix_web::test]
async fn staging_and_cancelling_publish_a_rotation_notice() {
    let f = Fixture::new().await;
    let app = app!(f);
    let id = upload(&app, &f, "stage-d").await["id"].as_u64().unwrap();
    let mut watcher = crate::runtime::rotation_notices::Watcher::new(f.store.clone());
    use crate::runtime::rotation_notices::Seen;
    assert_eq!(watcher.poll().await.unwrap(), Seen::Nothing);
    let body = json!({ "p12": B64.encode(f.p12("stage-d2")), "password": PASSWORD, "activateAt": in_millis(3_600_000) });
    let (status, _, text) = call(&app, test::TestRequest::put().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone())).set_json(&body)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(watcher.poll().await.unwrap(), Seen::Accounts(vec!["acc1".to_owned()]));
    let (status, _, _) = call(&app, test::TestRequest::delete().uri(&format!("/mtls/account/acc1/certificates/{id}/pending")).insert_header(("Authorization", f.bearer.clone()))).await;
    assert_eq!(status, 200);
    assert_eq!(watcher.poll().await.unwrap(), Seen::Accounts(vec!["acc1".to_owned()]));
}

#[actix_web::test]
async fn a_certificate_that_presents_nothing_now_switches_to_its_staged_version_at_its_instant() {
    let f = Fixture::new().await;
    let app = app!(f);
    let id = upload(&app, &f, "stage-e").await["id"].as_u64().unwrap();
    let mapping = json!([{ "certificationId": id, "serviceId": "2", "url": "https://expiring.example.com/", "name": "m", "enable": true }]);
    let (status, _, text) = call(&app, test::TestRequest::post().uri("/api/account/acc1/configuration/ac-common/mtls?v=3.0").insert_header(("Authorization", f.bearer.clone())).set_json(&mapping)).await;
    assert_eq!(status, 201, "{text}");
    let activate_at = clock::now_unix_millis() + 1500;
    let body = json!({ "p12": B64.encode(f.p12("stage-e2")), "password": PASSWORD, "activateAt": clock::format_rfc3339_millis(activate_at) });
    let (status, _, text) = call(&app, test::TestRequest::put().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone())).set_json(&body)).await;
    assert_eq!(status, 200, "{text}");
    // The current version expires before the staged one takes over.
    let key = format!("certificates/{}/{id}", crate::store::segment("acc1"));
    let mut stored = f.store.read(&key).await.unwrap().unwrap().value;
    stored["notAfterUnix"] = json!(1);
    f.store.write(&key, &stored, crate::store::Expect::Any).await.unwrap();
    f.state.runtime.invalidate_certificate("acc1", id);
    assert!(f.state.runtime.find("acc1", Some(2), "https://expiring.example.com/").await.unwrap().is_none(), "an expired certificate is not presented");
    let wait = activate_at + 20 - clock::now_unix_millis();
    tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
    let found = f.state.runtime.find("acc1", Some(2), "https://expiring.example.com/").await.unwrap();
    assert_eq!(found.map(|m| m.material.version), Some(2), "the cached \"nothing\" ends at activateAt, not at the TTL");
}
