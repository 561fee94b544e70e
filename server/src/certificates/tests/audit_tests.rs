//! The audit trail through the production routes over the memory store: every change kind
//! leaves exactly one record carrying the request id the gateway answered with; failed changes
//! leave none; a change whose record cannot be written fails and does not happen; pages,
//! `since` and cursors; no secret in any record. The same trail on the real stores is in
//! `server/tests/audit_trail.rs`.

use super::*;
use crate::clock;
use crate::store::Store as _;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const ADMIN: &str = "Bearer test-admin-token";

/// Sends `req`; answers status, body and the `X-Request-Id` the gateway answered with.
async fn send(app: &impl actix_web::dev::Service<actix_http::Request, Response = actix_web::dev::ServiceResponse, Error = actix_web::Error>, req: test::TestRequest) -> (u16, Value, String) {
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status().as_u16();
    let request_id = resp.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    let body = test::read_body(resp).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null), request_id)
}

async fn trail(app: &impl actix_web::dev::Service<actix_http::Request, Response = actix_web::dev::ServiceResponse, Error = actix_web::Error>, uri: &str, auth: &str) -> Value {
    let (status, body, _) = send(app, test::TestRequest::get().uri(uri).insert_header(("Authorization", auth.to_owned()))).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[actix_web::test]
async fn every_change_kind_leaves_one_record_with_the_callers_request_id() {
    let f = Fixture::new().await;
    let app = app!(f);
    let auth = f.bearer.clone();
    let mut expected: Vec<(String, String, Option<String>)> = Vec::new(); // (action, request id, resource id)
    let mut secrets = vec![PASSWORD.to_owned(), f.bearer.trim_start_matches("Bearer ").to_owned(), "test-admin-token".to_owned()];

    let one = B64.encode(f.p12("audit-one"));
    secrets.push(one.clone());
    let body = json!([{ "name": "audit-one", "p12": one, "password": PASSWORD }, { "name": "audit-two", "p12": B64.encode(f.p12("audit-two")), "password": PASSWORD }]);
    let (status, created, rid) = send(&app, test::TestRequest::post().uri("/mtls/account/acc1/certificates").insert_header(("Authorization", auth.clone())).insert_header(("X-Request-Id", "caller-chosen-id-1")).set_json(&body)).await;
    assert_eq!((status, rid.as_str()), (201, "caller-chosen-id-1"));
    let one_id = created["successfulySavedCertificates"][0]["id"].as_u64().unwrap().to_string();
    let two_id = created["successfulySavedCertificates"][1]["id"].as_u64().unwrap().to_string();
    expected.push(("certificate.create".into(), rid.clone(), Some(one_id.clone())));
    expected.push(("certificate.create".into(), rid, Some(two_id.clone())));

    let fields = json!({ "name": "audit-three", "password": PASSWORD }).to_string();
    let (content_type, form) = multipart(&[("file", &f.p12("audit-three")), ("certificate", fields.as_bytes())]);
    let (status, created, rid) = send(&app, test::TestRequest::post().uri("/mtls/account/acc1/certificates/by-file").insert_header(("Authorization", auth.clone())).insert_header(("Content-Type", content_type)).set_payload(form)).await;
    assert_eq!(status, 201, "{created}");
    let three_id = created["successfulySavedCertificates"][0]["id"].as_u64().unwrap().to_string();
    expected.push(("certificate.create".into(), rid, Some(three_id.clone())));

    let body = json!({ "p12": B64.encode(f.p12("audit-one-b")), "password": PASSWORD });
    let (status, _, rid) = send(&app, test::TestRequest::put().uri(&format!("/mtls/account/acc1/certificates/{one_id}")).insert_header(("Authorization", auth.clone())).set_json(&body)).await;
    assert_eq!(status, 200);
    expected.push(("certificate.replace".into(), rid, Some(one_id.clone())));

    let fields = json!({ "id": three_id, "password": PASSWORD, "activateAt": clock::format_rfc3339(clock::now_unix() + 3600) }).to_string();
    let (content_type, form) = multipart(&[("file", &f.p12("audit-three-b")), ("certificate", fields.as_bytes())]);
    let (status, _, rid) = send(&app, test::TestRequest::put().uri("/mtls/account/acc1/certificates/by-file").insert_header(("Authorization", auth.clone())).insert_header(("Content-Type", content_type)).set_payload(form)).await;
    assert_eq!(status, 200);
    expected.push(("certificate.stage".into(), rid, Some(three_id.clone())));
    let (status, _, rid) = send(&app, test::TestRequest::delete().uri(&format!("/mtls/account/acc1/certificates/{three_id}/pending")).insert_header(("Authorization", auth.clone()))).await;
    assert_eq!(status, 200);
    expected.push(("certificate.pending.cancel".into(), rid, Some(three_id.clone())));

    let body = json!([{ "certificationId": one_id.parse::<u64>().unwrap(), "serviceId": "2", "url": "https://audit.example.com/", "name": "audit-map", "enable": true }]);
    let (status, mapped, rid) = send(&app, test::TestRequest::post().uri("/api/account/acc1/configuration/ac-common/mtls?v=3.0").insert_header(("Authorization", auth.clone())).set_json(&body)).await;
    assert_eq!(status, 201, "{mapped}");
    let map_id = mapped[0]["id"].as_u64().unwrap().to_string();
    expected.push(("mapping.create".into(), rid, Some(map_id.clone())));
    let body = json!({ "certificationId": one_id.parse::<u64>().unwrap(), "serviceId": "2", "url": "https://audit.example.com/", "name": "audit-map", "enable": false });
    let (status, _, rid) = send(&app, test::TestRequest::put().uri(&format!("/api/account/acc1/configuration/ac-common/mtls/{map_id}")).insert_header(("Authorization", auth.clone())).set_json(&body)).await;
    assert_eq!(status, 200);
    expected.push(("mapping.update".into(), rid, Some(map_id.clone())));
    let (status, _, rid) = send(&app, test::TestRequest::delete().uri(&format!("/api/account/acc1/configuration/ac-common/mtls/{map_id}")).insert_header(("Authorization", auth.clone()))).await;
    assert_eq!(status, 200);
    expected.push(("mapping.delete".into(), rid, Some(map_id)));

    let (status, _, rid) = send(&app, test::TestRequest::delete().uri(&format!("/mtls/account/acc1/certificates/{two_id}")).insert_header(("Authorization", auth.clone()))).await;
    assert_eq!(status, 200);
    expected.push(("certificate.delete".into(), rid, Some(two_id)));

    // Admin changes: in the admin trail only.
    let (status, key, key_rid) = send(&app, test::TestRequest::post().uri("/admin/app-keys").insert_header(("Authorization", ADMIN)).set_json(json!({"name": "audit-key", "accounts": ["acc1"]}))).await;
    assert_eq!(status, 201);
    let consumer_key = key["consumerKey"].as_str().unwrap().to_owned();
    for field in ["consumerSecret", "tokenSecret"] {
        secrets.push(key[field].as_str().unwrap().to_owned());
    }
    let (status, _, delete_rid) = send(&app, test::TestRequest::delete().uri(&format!("/admin/app-keys/{consumer_key}")).insert_header(("Authorization", ADMIN))).await;
    assert_eq!(status, 204);
    let (status, token, token_rid) = send(&app, test::TestRequest::post().uri("/admin/tokens").insert_header(("Authorization", ADMIN)).set_json(json!({"sub": "audit-sub", "accounts": ["acc1"]}))).await;
    assert_eq!(status, 201);
    secrets.push(token["accessToken"].as_str().unwrap().to_owned());

    // Failed changes leave nothing.
    let body = json!({ "p12": B64.encode(b"garbage"), "password": PASSWORD });
    let (status, _, _) = send(&app, test::TestRequest::put().uri(&format!("/mtls/account/acc1/certificates/{one_id}")).insert_header(("Authorization", auth.clone())).set_json(&body)).await;
    assert_eq!(status, 422);
    let (status, _, _) = send(&app, test::TestRequest::delete().uri("/admin/app-keys/no-such-key").insert_header(("Authorization", ADMIN))).await;
    assert_eq!(status, 404);

    let page = trail(&app, "/mtls/account/acc1/audit?limit=500", &auth).await;
    let records = page["records"].as_array().unwrap();
    let got: Vec<(String, String, Option<String>)> = records
        .iter()
        .rev()
        .map(|r| (r["action"].as_str().unwrap().to_owned(), r["requestId"].as_str().unwrap().to_owned(), r["resource"]["id"].as_str().map(str::to_owned)))
        .collect();
    assert_eq!(got, expected);
    for record in records {
        assert_eq!(record["account"], "acc1");
        assert_eq!(record["actor"], json!({"scheme": "bearer", "subject": "tester"}));
        assert!(record["at"].as_str().is_some_and(|at| clock::parse_rfc3339_millis(at).is_some()));
        assert!(record["id"].as_str().is_some_and(|id| id.len() == 32));
    }
    assert_eq!(records.last().unwrap()["resource"], json!({"type": "certificate", "id": one_id, "name": "audit-one"}));
    let all = trail(&app, "/admin/audit", ADMIN).await;
    let admin_records = &all["records"].as_array().unwrap()[..3];
    let admin: Vec<(&str, &str, Option<&str>)> = admin_records.iter().map(|r| (r["action"].as_str().unwrap(), r["requestId"].as_str().unwrap(), r["resource"]["id"].as_str())).collect();
    assert_eq!(admin, [("token.issue", token_rid.as_str(), None), ("app_key.delete", delete_rid.as_str(), Some(consumer_key.as_str())), ("app_key.create", key_rid.as_str(), Some(consumer_key.as_str()))]);
    assert_eq!(admin_records[0]["actor"], json!({"scheme": "admin", "subject": "admin"}));
    assert_eq!(admin_records[0]["account"], Value::Null);
    assert_eq!(all["records"].as_array().unwrap().len(), expected.len() + 3);

    // No secret in any record, as shown or as stored.
    let mut everything = format!("{page}{all}");
    for key in f.store.list("audit/all").await.unwrap() {
        everything.push_str(&f.store.read(&format!("audit/all/{key}")).await.unwrap().unwrap().value.to_string());
    }
    for secret in &secrets {
        assert!(!everything.contains(secret.as_str()), "a secret is in the audit trail");
    }
}

#[actix_web::test]
async fn a_change_whose_record_cannot_be_written_fails_and_does_not_happen() {
    let f = Fixture::new().await;
    let app = app!(f);
    let p12 = B64.encode(f.p12("audit-kept"));
    let (status, created, _) = send(&app, test::TestRequest::post().uri("/mtls/account/acc1/certificates").insert_header(("Authorization", f.bearer.clone())).set_json(json!([{ "name": "audit-kept", "p12": p12, "password": PASSWORD }]))).await;
    assert_eq!(status, 201);
    let id = created["successfulySavedCertificates"][0]["id"].as_u64().unwrap();
    *f.store.fail_writes_under.lock().unwrap() = Some("audit/".to_owned());
    let refused = |(status, body, _): (u16, Value, String)| {
        assert_eq!((status, body["error"]["code"].as_str()), (503, Some("store_unavailable")), "{body}");
    };
    refused(send(&app, test::TestRequest::post().uri("/mtls/account/acc1/certificates").insert_header(("Authorization", f.bearer.clone())).set_json(json!([{ "name": "audit-lost", "p12": p12, "password": PASSWORD }]))).await);
    refused(send(&app, test::TestRequest::put().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone())).set_json(json!({ "p12": B64.encode(f.p12("audit-kept-b")), "password": PASSWORD }))).await);
    refused(send(&app, test::TestRequest::delete().uri(&format!("/mtls/account/acc1/certificates/{id}")).insert_header(("Authorization", f.bearer.clone()))).await);
    refused(send(&app, test::TestRequest::post().uri("/api/account/acc1/configuration/ac-common/mtls?v=3.0").insert_header(("Authorization", f.bearer.clone())).set_json(json!([{ "certificationId": id, "serviceId": "2", "url": "https://lost.example.com/", "name": "lost", "enable": true }]))).await);
    refused(send(&app, test::TestRequest::post().uri("/admin/tokens").insert_header(("Authorization", ADMIN)).set_json(json!({"sub": "lost", "accounts": ["acc1"]}))).await);
    refused(send(&app, test::TestRequest::post().uri("/admin/app-keys").insert_header(("Authorization", ADMIN)).set_json(json!({"name": "lost", "accounts": ["acc1"]}))).await);
    *f.store.fail_writes_under.lock().unwrap() = None;
    let (_, list, _) = send(&app, test::TestRequest::get().uri("/mtls/account/acc1/certificates").insert_header(("Authorization", f.bearer.clone()))).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "nothing created, nothing deleted");
    assert_eq!((list[0]["version"].as_u64(), list[0]["name"].as_str()), (Some(1), Some("audit-kept")));
    let (_, mappings, _) = send(&app, test::TestRequest::get().uri("/api/account/acc1/configuration/ac-common/mtls").insert_header(("Authorization", f.bearer.clone()))).await;
    assert_eq!(mappings, json!([]));
    assert!(f.store.list("auth/app-keys").await.unwrap().is_empty(), "no app key made");
    let page = trail(&app, "/mtls/account/acc1/audit", &f.bearer).await;
    assert_eq!(page["records"].as_array().unwrap().len(), 1, "only the first create is on record");
}

#[actix_web::test]
async fn trails_page_with_cursors_and_since_and_refuse_bad_queries_and_strangers() {
    let f = Fixture::new().await;
    let app = app!(f);
    let mut ids = Vec::new();
    for n in 0..5 {
        let (status, created, _) = send(&app, test::TestRequest::post().uri("/mtls/account/acc1/certificates").insert_header(("Authorization", f.bearer.clone())).set_json(json!([{ "name": format!("page-{n}"), "p12": B64.encode(f.p12(&format!("page-{n}"))), "password": PASSWORD }]))).await;
        assert_eq!(status, 201);
        ids.push(created["successfulySavedCertificates"][0]["id"].as_u64().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut uri = "/mtls/account/acc1/audit?limit=2".to_owned();
    loop {
        let page = trail(&app, &uri, &f.bearer).await;
        assert!(page["records"].as_array().unwrap().len() <= 2);
        seen.extend(page["records"].as_array().unwrap().iter().map(|r| r["resource"]["id"].as_str().unwrap().to_owned()));
        match page["nextCursor"].as_str() {
            Some(cursor) => uri = format!("/mtls/account/acc1/audit?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "newest first, each once");
    let page = trail(&app, "/mtls/account/acc1/audit", &f.bearer).await;
    let third_at = page["records"][2]["at"].as_str().unwrap().replace('+', "%2B");
    let since = trail(&app, &format!("/mtls/account/acc1/audit?since={third_at}"), &f.bearer).await;
    assert!(since["records"].as_array().unwrap().len() >= 3, "records at or after since");
    assert!(since["records"].as_array().unwrap().iter().all(|r| r["at"].as_str().unwrap() >= page["records"][2]["at"].as_str().unwrap()));
    let far = clock::format_rfc3339(clock::now_unix() + 3600);
    assert_eq!(trail(&app, &format!("/mtls/account/acc1/audit?since={far}"), &f.bearer).await["records"], json!([]));

    for (query, code) in [("limit=0", "invalid_limit"), ("limit=501", "invalid_limit"), ("limit=x", "invalid_limit"), ("since=yesterday", "invalid_since"), ("cursor=zzz", "invalid_cursor")] {
        let (status, body, _) = send(&app, test::TestRequest::get().uri(&format!("/mtls/account/acc1/audit?{query}")).insert_header(("Authorization", f.bearer.clone()))).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some(code)), "{query}");
    }
    let other = f.state.auth.issue_token("stranger", &["acc2".to_owned()], 600).await.unwrap();
    let (status, _, _) = send(&app, test::TestRequest::get().uri("/mtls/account/acc1/audit").insert_header(("Authorization", format!("Bearer {other}")))).await;
    assert_eq!(status, 403);
    let (status, _, _) = send(&app, test::TestRequest::get().uri("/admin/audit").insert_header(("Authorization", f.bearer.clone()))).await;
    assert_eq!(status, 401);
    let (status, _, _) = send(&app, test::TestRequest::get().uri("/mtls/account/acc1/audit").insert_header(("Authorization", ADMIN))).await;
    assert_eq!(status, 401);
}
