//! Authentication through a real actix service: the scheme matrix, account isolation, token
//! checks, oAuth1 signatures (signed here with the RFC construction; the integration tests use
//! an ecosystem client), timestamp window and nonce replay.

use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, test, web};

use super::*;
use crate::config::Config;
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::memory::MemoryStore;

async fn probe(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let account = req.match_info().get("a").map(str::to_owned);
    let accepted = match req.match_info().get("kind") {
        Some("bearer") => BEARER_ONLY,
        Some("oauth") => &[Scheme::OAuth1],
        _ => CONFIGURATION,
    };
    let form = req
        .headers()
        .get("content-type")
        .is_some_and(|v| {
            v.as_bytes()
                .starts_with(b"application/x-www-form-urlencoded")
        })
        .then_some(&body[..]);
    let caller = authorize(&req, &state.auth, accepted, account.as_deref(), form).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "subject": caller.subject() })))
}

fn state() -> web::Data<AppState> {
    let config = Config::for_tests(std::env::temp_dir());
    web::Data::new(AppState::new(config, Arc::new(MemoryStore::default())))
}

macro_rules! app {
    ($state:expr) => {
        test::init_service(
            App::new()
                .app_data($state.clone())
                .route("/t/{kind}/{a}", web::route().to(probe)),
        )
        .await
    };
}

struct Signer<'a> {
    key: &'a AppKey,
    with_token: bool,
    method: oauth1::SignatureMethod,
    /// `oauth_timestamp` as sent (tests send malformed ones too).
    timestamp: String,
    nonce: String,
}

impl Signer<'_> {
    fn header(
        &self,
        method: &str,
        host_and_path: &str,
        query: &str,
        form: Option<&[u8]>,
    ) -> String {
        let method_name = match self.method {
            oauth1::SignatureMethod::HmacSha1 => "HMAC-SHA1",
            oauth1::SignatureMethod::HmacSha256 => "HMAC-SHA256",
        };
        let mut params = vec![
            (
                "oauth_consumer_key".to_owned(),
                self.key.consumer_key.clone(),
            ),
            ("oauth_nonce".to_owned(), self.nonce.clone()),
            ("oauth_signature_method".to_owned(), method_name.to_owned()),
            ("oauth_timestamp".to_owned(), self.timestamp.clone()),
            ("oauth_version".to_owned(), "1.0".to_owned()),
        ];
        if self.with_token {
            params.push(("oauth_token".to_owned(), self.key.token.clone()));
        }
        let base = oauth1::base_string(
            method,
            &format!("http://{host_and_path}"),
            query,
            form,
            &params,
        );
        let token_secret = if self.with_token {
            self.key.token_secret.as_str()
        } else {
            ""
        };
        let signature = oauth1::sign(self.method, &base, &self.key.consumer_secret, token_secret);
        params.push(("oauth_signature".to_owned(), signature));
        let parts: Vec<String> = params
            .iter()
            .map(|(n, v)| {
                format!(
                    "{}=\"{}\"",
                    mtls_sdk::oauth1::percent_encode(n),
                    mtls_sdk::oauth1::percent_encode(v)
                )
            })
            .collect();
        format!("OAuth realm=\"x\", {}", parts.join(", "))
    }
}

fn signer(key: &AppKey) -> Signer<'_> {
    Signer {
        key,
        with_token: true,
        method: oauth1::SignatureMethod::HmacSha1,
        timestamp: clock::now_unix().to_string(),
        nonce: uuid::Uuid::new_v4().to_string(),
    }
}

async fn status_and_challenge(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    req: test::TestRequest,
) -> (u16, Option<String>, serde_json::Value) {
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = test::read_body(resp).await;
    (
        status,
        challenge,
        serde_json::from_slice(&body).unwrap_or_default(),
    )
}

#[actix_web::test]
async fn issued_bearer_acts_only_on_its_accounts() {
    let state = state();
    let app = app!(state);
    let token = state
        .auth
        .issue_token("alice", &["le1".to_owned()], 60)
        .await
        .unwrap();
    let bearer = ("Authorization", format!("Bearer {token}"));
    let (status, _, body) = status_and_challenge(
        &app,
        test::TestRequest::get()
            .uri("/t/conf/le1")
            .insert_header(bearer.clone()),
    )
    .await;
    assert_eq!((status, body["subject"].as_str()), (200, Some("alice")));
    let (status, challenge, body) = status_and_challenge(
        &app,
        test::TestRequest::get()
            .uri("/t/conf/le2")
            .insert_header(bearer.clone()),
    )
    .await;
    assert_eq!((status, challenge), (403, None));
    assert_eq!(body["error"]["code"], "forbidden");
    let star = state
        .auth
        .issue_token("ops", &["*".to_owned()], 60)
        .await
        .unwrap();
    let (status, _, _) = status_and_challenge(
        &app,
        test::TestRequest::get()
            .uri("/t/conf/anything")
            .insert_header(("Authorization", format!("Bearer {star}"))),
    )
    .await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn every_401_names_the_accepted_schemes() {
    let state = state();
    let app = app!(state);
    let (status, challenge, body) =
        status_and_challenge(&app, test::TestRequest::get().uri("/t/conf/le1")).await;
    assert_eq!(status, 401);
    let challenge = challenge.unwrap();
    assert!(
        challenge.contains("Bearer") && challenge.contains("OAuth"),
        "{challenge}"
    );
    assert_eq!(body["error"]["code"], "unauthenticated");

    let key = state
        .auth
        .create_app_key("k", &["le1".to_owned()])
        .await
        .unwrap();
    let header = signer(&key).header("GET", "127.0.0.1:8080/t/bearer/le1", "", None);
    let (status, challenge, body) = status_and_challenge(
        &app,
        test::TestRequest::get()
            .uri("/t/bearer/le1")
            .insert_header(("Authorization", header)),
    )
    .await;
    assert_eq!(
        (status, challenge.as_deref()),
        (401, Some("Bearer realm=\"mtls-gateway\""))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Bearer tokens only"),
        "{body}"
    );

    let token = state
        .auth
        .issue_token("alice", &["le1".to_owned()], 60)
        .await
        .unwrap();
    let (status, challenge, body) = status_and_challenge(
        &app,
        test::TestRequest::get()
            .uri("/t/oauth/le1")
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await;
    assert_eq!(
        (status, challenge.as_deref()),
        (401, Some("OAuth realm=\"mtls-gateway\""))
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains("OAuth"),
        "{body}"
    );
    assert!(!body.to_string().contains(&token));

    for bad in [
        "Bearer",
        "Bearer x.y.z",
        "Basic dXNlcjpwYXNz",
        "Bearer test-admin-token",
        "OAuth garbage",
    ] {
        let (status, challenge, _) = status_and_challenge(
            &app,
            test::TestRequest::get()
                .uri("/t/conf/le1")
                .insert_header(("Authorization", bad)),
        )
        .await;
        assert_eq!(status, 401, "{bad}");
        assert!(challenge.is_some(), "{bad}");
    }
}

#[actix_web::test]
async fn tokens_signed_by_another_key_or_expired_are_refused() {
    let state = state();
    let app = app!(state);
    // Same claims, a key the server does not know.
    let stranger = p256::ecdsa::SigningKey::from_slice(&[3u8; 32]).unwrap();
    let claims = jwt::Claims {
        sub: "eve".into(),
        accounts: vec!["*".into()],
        exp: clock::now_unix() + 60,
        nbf: None,
        iat: None,
        iss: None,
        jti: None,
    };
    let forged = jwt::sign_es256(&stranger, "whatever", &claims);
    let (status, _, _) = status_and_challenge(
        &app,
        test::TestRequest::get()
            .uri("/t/conf/le1")
            .insert_header(("Authorization", format!("Bearer {forged}"))),
    )
    .await;
    assert_eq!(status, 401);
    let expired = state
        .auth
        .issue_token("alice", &["le1".to_owned()], -120)
        .await
        .unwrap();
    let (status, _, body) = status_and_challenge(
        &app,
        test::TestRequest::get()
            .uri("/t/conf/le1")
            .insert_header(("Authorization", format!("Bearer {expired}"))),
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[actix_web::test]
async fn oauth1_with_and_without_token_sha1_and_sha256() {
    let state = state();
    let app = app!(state);
    let key = state
        .auth
        .create_app_key("k", &["le1".to_owned()])
        .await
        .unwrap();
    for (with_token, method) in [
        (true, oauth1::SignatureMethod::HmacSha1),
        (false, oauth1::SignatureMethod::HmacSha1),
        (true, oauth1::SignatureMethod::HmacSha256),
        (false, oauth1::SignatureMethod::HmacSha256),
    ] {
        let s = Signer {
            with_token,
            method,
            ..signer(&key)
        };
        let header = s.header("POST", "127.0.0.1:8080/t/conf/le1", "v=1&q=a%20b", None);
        let req = test::TestRequest::post()
            .uri("/t/conf/le1?v=1&q=a%20b")
            .insert_header(("Authorization", header));
        let (status, _, body) = status_and_challenge(&app, req).await;
        assert_eq!(status, 200, "{with_token} {method:?} {body}");
        assert_eq!(body["subject"], key.consumer_key.as_str());
    }
    // Form parameters are signed too.
    let header = signer(&key).header(
        "POST",
        "127.0.0.1:8080/t/conf/le1",
        "",
        Some(b"a=1&b=two+words"),
    );
    let req = test::TestRequest::post()
        .uri("/t/conf/le1")
        .insert_header(("Authorization", header.clone()))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload("a=1&b=two+words");
    assert_eq!(status_and_challenge(&app, req).await.0, 200);
    // The same header over a changed body fails (and is no replay: it never verified).
    let s = signer(&key);
    let header = s.header("POST", "127.0.0.1:8080/t/conf/le1", "", Some(b"a=1"));
    let req = test::TestRequest::post()
        .uri("/t/conf/le1")
        .insert_header(("Authorization", header))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload("a=2");
    assert_eq!(status_and_challenge(&app, req).await.0, 401);
    // The Host header as the client sent it, lower-cased and without the default port.
    let header = signer(&key).header("GET", "gw.example.com/t/conf/le1", "", None);
    let req = test::TestRequest::get()
        .uri("/t/conf/le1")
        .insert_header(("Host", "GW.example.com:80"))
        .insert_header(("Authorization", header));
    assert_eq!(status_and_challenge(&app, req).await.0, 200);
    // Another account: 403.
    let header = signer(&key).header("GET", "127.0.0.1:8080/t/conf/le2", "", None);
    let req = test::TestRequest::get()
        .uri("/t/conf/le2")
        .insert_header(("Authorization", header));
    assert_eq!(status_and_challenge(&app, req).await.0, 403);
}

#[actix_web::test]
async fn oauth1_refuses_old_timestamps_replays_wrong_secrets_and_deleted_keys() {
    let state = state();
    let app = app!(state);
    let key = state
        .auth
        .create_app_key("k", &["*".to_owned()])
        .await
        .unwrap();
    let get = |header: String| {
        test::TestRequest::get()
            .uri("/t/conf/le1")
            .insert_header(("Authorization", header))
    };

    let stale = Signer {
        timestamp: (clock::now_unix() - 301).to_string(),
        ..signer(&key)
    };
    let (status, _, body) = status_and_challenge(
        &app,
        get(stale.header("GET", "127.0.0.1:8080/t/conf/le1", "", None)),
    )
    .await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("clock"));
    let future = Signer {
        timestamp: (clock::now_unix() + 301).to_string(),
        ..signer(&key)
    };
    assert_eq!(
        status_and_challenge(
            &app,
            get(future.header("GET", "127.0.0.1:8080/t/conf/le1", "", None))
        )
        .await
        .0,
        401
    );

    let once = signer(&key).header("GET", "127.0.0.1:8080/t/conf/le1", "", None);
    assert_eq!(status_and_challenge(&app, get(once.clone())).await.0, 200);
    let (status, _, body) = status_and_challenge(&app, get(once)).await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("nonce"));

    let wrong = AppKey {
        consumer_secret: "nope".into(),
        ..key.clone()
    };
    assert_eq!(
        status_and_challenge(
            &app,
            get(signer(&wrong).header("GET", "127.0.0.1:8080/t/conf/le1", "", None))
        )
        .await
        .0,
        401
    );
    let wrong_token = AppKey {
        token: "other".into(),
        ..key.clone()
    };
    assert_eq!(
        status_and_challenge(
            &app,
            get(signer(&wrong_token).header("GET", "127.0.0.1:8080/t/conf/le1", "", None))
        )
        .await
        .0,
        401
    );
    // Signed for another path.
    assert_eq!(
        status_and_challenge(
            &app,
            get(signer(&key).header("GET", "127.0.0.1:8080/t/conf/le9", "", None))
        )
        .await
        .0,
        401
    );

    assert!(state.auth.delete_app_key(&key.consumer_key).await.unwrap());
    assert_eq!(
        status_and_challenge(
            &app,
            get(signer(&key).header("GET", "127.0.0.1:8080/t/conf/le1", "", None))
        )
        .await
        .0,
        401
    );
}

#[actix_web::test]
async fn admin_token_is_compared_and_only_the_admin_token_passes() {
    let state = state();
    let req = test::TestRequest::get()
        .insert_header(("Authorization", "Bearer test-admin-token"))
        .to_http_request();
    assert!(authorize_admin(&req, &state.auth).is_ok());
    for bad in [
        "Bearer test-admin-tokeN",
        "Bearer ",
        "test-admin-token",
        "Basic test-admin-token",
    ] {
        let req = test::TestRequest::get()
            .insert_header(("Authorization", bad))
            .to_http_request();
        let err = ApiError::from(authorize_admin(&req, &state.auth).unwrap_err());
        assert_eq!(err.status.as_u16(), 401, "{bad}");
    }
    let mut config = Config::for_tests(std::env::temp_dir());
    config.auth.admin_token = None;
    let off = AppState::new(config, Arc::new(MemoryStore::default()));
    let req = test::TestRequest::get()
        .insert_header(("Authorization", "Bearer test-admin-token"))
        .to_http_request();
    assert!(
        ApiError::from(authorize_admin(&req, &off.auth).unwrap_err())
            .message
            .contains("disabled")
    );
}

#[actix_web::test]
async fn external_jwks_tokens_are_accepted() {
    use base64::Engine as _;
    let external = p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap();
    let point = external.verifying_key().to_sec1_point(false);
    let b = point.as_bytes();
    let b64 = |x: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(x);
    let dir = std::env::temp_dir().join(format!("jwks-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwks.json");
    std::fs::write(&file, serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "idp-1", "x": b64(&b[1..33]), "y": b64(&b[33..])}]}).to_string()).unwrap();
    let mut config = Config::for_tests(dir.clone());
    config.auth.jwks_file = Some(file.clone());
    let state =
        web::Data::new(AppState::try_new(config, Arc::new(MemoryStore::default())).unwrap());
    let app = app!(state);
    let claims = jwt::Claims {
        sub: "idp-user".into(),
        accounts: vec!["le1".into()],
        exp: clock::now_unix() + 60,
        nbf: None,
        iat: None,
        iss: Some("idp".into()),
        jti: None,
    };
    let token = jwt::sign_es256(&external, "idp-1", &claims);
    let (status, _, body) = status_and_challenge(
        &app,
        test::TestRequest::get()
            .uri("/t/conf/le1")
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await;
    assert_eq!((status, body["subject"].as_str()), (200, Some("idp-user")));
    std::fs::write(&file, "{}").unwrap();
    let mut config = Config::for_tests(dir.clone());
    config.auth.jwks_file = Some(file);
    let error = AppState::try_new(config, Arc::new(MemoryStore::default()))
        .err()
        .unwrap();
    assert!(error.starts_with("MTLS_JWKS_FILE"), "{error}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A timestamp that is not a positive integer is refused, and nothing is remembered for it: the
/// most negative i64 overflowed the window arithmetic (a panic in debug builds; in release it
/// passed the window and its nonce was stored already expired, so the request replayed forever).
/// See: SPEC section 4, "Timestamps outside ±300 s (or not a positive integer)".
#[actix_web::test]
async fn oauth1_refuses_timestamps_that_are_not_positive_integers() {
    let state = state();
    let app = app!(state);
    let key = state
        .auth
        .create_app_key("k", &["*".to_owned()])
        .await
        .unwrap();
    let now = clock::now_unix();
    for timestamp in [
        i64::MIN.to_string(),
        (i64::MIN + 1).to_string(),
        i64::MAX.to_string(),
        "99999999999999999999999".to_owned(),
        "0".to_owned(),
        "-1".to_owned(),
        format!("-{now}"),
        format!("+{now}"),
        format!("{now}.0"),
        format!(" {now}"),
        "1e9".to_owned(),
        "abc".to_owned(),
        String::new(),
    ] {
        let header = Signer {
            timestamp: timestamp.clone(),
            ..signer(&key)
        }
        .header("GET", "127.0.0.1:8080/t/conf/le1", "", None);
        for attempt in ["first", "replay"] {
            let (status, challenge, body) = status_and_challenge(
                &app,
                test::TestRequest::get()
                    .uri("/t/conf/le1")
                    .insert_header(("Authorization", header.clone())),
            )
            .await;
            assert_eq!(status, 401, "{timestamp:?} {attempt}: {body}");
            assert!(challenge.unwrap().contains("OAuth"));
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("oauth_timestamp"),
                "{timestamp:?}: {body}"
            );
        }
    }
    assert_eq!(state.auth.nonces.len(), 0);
}

/// Nonces are at most 64 characters (SPEC section 4); longer ones are refused before the
/// signature is checked, so they never take memory.
#[actix_web::test]
async fn oauth1_refuses_nonces_longer_than_64_characters() {
    let state = state();
    let app = app!(state);
    let key = state
        .auth
        .create_app_key("k", &["*".to_owned()])
        .await
        .unwrap();
    let send = |nonce: String| {
        let header = Signer {
            nonce,
            ..signer(&key)
        }
        .header("GET", "127.0.0.1:8080/t/conf/le1", "", None);
        test::TestRequest::get()
            .uri("/t/conf/le1")
            .insert_header(("Authorization", header))
    };
    assert_eq!(status_and_challenge(&app, send("a".repeat(64))).await.0, 200);
    // Characters, not bytes: 64 two-byte characters are fine.
    assert_eq!(status_and_challenge(&app, send("é".repeat(64))).await.0, 200);
    for long in ["b".repeat(65), "é".repeat(65), "c".repeat(4096)] {
        let (status, challenge, body) = status_and_challenge(&app, send(long)).await;
        assert_eq!(status, 401, "{body}");
        assert!(challenge.unwrap().contains("OAuth"));
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("oauth_nonce"),
            "{body}"
        );
    }
    assert_eq!(state.auth.nonces.len(), 2);
}

/// One consumer filling its share of the nonce cache is refused (429 with `Retry-After`);
/// another consumer's signed requests still pass. Requests that do not verify (unknown consumer
/// key, wrong secret) never take a place in the cache.
/// See: SPEC section 4, "one consumer's nonces can never crowd out another's".
#[actix_web::test]
async fn oauth1_consumer_over_its_nonce_share_does_not_lock_out_another() {
    let mut app_state = AppState::new(
        Config::for_tests(std::env::temp_dir()),
        Arc::new(MemoryStore::default()),
    );
    app_state.auth.nonces = nonces::NonceCache::with_share_per_consumer(3);
    let state = web::Data::new(app_state);
    let app = app!(state);
    let noisy = state
        .auth
        .create_app_key("noisy", &["*".to_owned()])
        .await
        .unwrap();
    let quiet = state
        .auth
        .create_app_key("quiet", &["*".to_owned()])
        .await
        .unwrap();
    let send = |key: &AppKey| {
        test::TestRequest::get().uri("/t/conf/le1").insert_header((
            "Authorization",
            signer(key).header("GET", "127.0.0.1:8080/t/conf/le1", "", None),
        ))
    };

    let unknown = AppKey {
        consumer_key: "no-such-key".into(),
        ..noisy.clone()
    };
    let wrong_secret = AppKey {
        consumer_secret: "wrong".into(),
        ..noisy.clone()
    };
    for _ in 0..10 {
        assert_eq!(status_and_challenge(&app, send(&unknown)).await.0, 401);
        assert_eq!(status_and_challenge(&app, send(&wrong_secret)).await.0, 401);
    }
    assert_eq!(state.auth.nonces.len(), 0);

    for _ in 0..3 {
        assert_eq!(status_and_challenge(&app, send(&noisy)).await.0, 200);
    }
    let resp = test::call_service(&app, send(&noisy).to_request()).await;
    assert_eq!(resp.status().as_u16(), 429);
    let retry_after: u64 = resp.headers().get("retry-after").unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=601).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = serde_json::from_slice(&test::read_body(resp).await).unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");

    for _ in 0..3 {
        assert_eq!(status_and_challenge(&app, send(&quiet)).await.0, 200);
    }
    assert_eq!(state.auth.nonces.len(), 6);
}

/// A caller repeating an unknown consumer key costs one store read, not one per request; a key
/// created on this instance is accepted at once.
#[actix_web::test]
async fn oauth1_unknown_consumer_key_costs_one_store_read() {
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let store = crate::runtime::ReadCounter::wrap(Arc::new(MemoryStore::default()), metrics.clone());
    let state = web::Data::new(AppState::new(Config::for_tests(std::env::temp_dir()), store));
    let app = app!(state);
    let reads = || metrics.runtime_store_reads.get();
    let key = state
        .auth
        .create_app_key("k", &["*".to_owned()])
        .await
        .unwrap();
    let unknown = AppKey {
        consumer_key: "no-such-key".into(),
        ..key.clone()
    };
    let send = |key: &AppKey| {
        test::TestRequest::get().uri("/t/conf/le1").insert_header((
            "Authorization",
            signer(key).header("GET", "127.0.0.1:8080/t/conf/le1", "", None),
        ))
    };
    for _ in 0..10 {
        assert_eq!(status_and_challenge(&app, send(&unknown)).await.0, 401);
    }
    assert_eq!(reads(), 1);
    assert_eq!(status_and_challenge(&app, send(&key)).await.0, 200);
}
