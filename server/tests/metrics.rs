//! `/metrics` of the built binary on both stores (the embedded store and a real OpenBao): every
//! family described from the first scrape, the certificate expiry gauge against the uploaded
//! certificate's notAfter (kept across a restart by the walk of the store), store errors
//! counted while OpenBao is stopped, and no secret in any scrape.

mod harness;
mod stock_oauth1;
mod support;

use harness::{Api, Backend, Cred, World};
use support::{Gateway, StoreKind};

/// Every family of SPEC 13, with its type.
const FAMILIES: &[(&str, &str)] = &[
    ("mtls_http_requests", "counter"),
    ("mtls_forward", "counter"),
    ("mtls_forward_duration_seconds", "histogram"),
    ("mtls_store_operation_duration_seconds", "histogram"),
    ("mtls_store_operation_errors", "counter"),
    ("mtls_runtime_cache", "counter"),
    ("mtls_certificate_expiry_seconds", "gauge"),
];

/// The value of the series `name{labels}`, when the scrape has it.
fn series(text: &str, name_and_labels: &str) -> Option<i64> {
    text.lines().find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Fails on anything in a scrape that looks like a secret (the log scanner's shapes, the
/// gateway's own secrets and every registered token, app key secret and password).
fn assert_no_secret(gateway: &Gateway, text: &str) {
    let findings = support::secret_scan::findings(text, &[gateway.admin_token()]);
    assert!(findings.is_empty(), "secrets in /metrics: {findings:?}");
}

#[tokio::test]
async fn the_first_scrape_describes_every_family() {
    let gateway = Gateway::spawn_on(StoreKind::Embedded, &[]);
    let resp = support::client().get(format!("{}/metrics", gateway.base_url())).send().await.expect("scrape");
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let text = resp.text().await.expect("text");
    for (family, kind) in FAMILIES {
        assert!(text.contains(&format!("# HELP {family} ")), "{family} has no HELP:\n{text}");
        assert!(text.contains(&format!("# TYPE {family} {kind}\n")), "{family} is no {kind}:\n{text}");
    }
    assert_eq!(series(&text, "mtls_forward_total{result=\"forwarded\"}"), Some(0), "{text}");
    assert!(text.ends_with("# EOF\n"));
}

/// The certificate's notAfter as the API shows it, in Unix seconds.
async fn not_after(api: &Api, cred: &Cred, account: &str, id: u64) -> i64 {
    let (status, _, body) = api.send("GET", &format!("/mtls/account/{account}/certificates/{id}"), cred, None).await;
    assert_eq!(status, 200, "{body}");
    let text = body["expirationDate"].as_str().expect("expirationDate");
    mtls_server::clock::parse_rfc3339(text).expect("RFC 3339")
}

/// Scrapes until `done` holds (the start-up walk of the store runs in the background), on new
/// connections (the harness client's pooled ones died with the restarted process).
async fn scrape_until(gateway: &Gateway, done: impl Fn(&str) -> bool) -> String {
    let mut text = String::new();
    for _ in 0..100 {
        let url = format!("{}/metrics", gateway.base_url());
        if let Ok(resp) = support::client().get(url).send().await {
            text = resp.text().await.unwrap_or_default();
            if done(&text) {
                return text;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("never reached:\n{text}");
}

/// The gauge reads the seconds from the scrape's own clock to notAfter, whichever instant
/// inside [before, after] the scrape happened.
fn assert_seconds_to(text: &str, series_name: &str, not_after: i64, before: i64, after: i64) {
    let seconds = series(text, series_name).unwrap_or_else(|| panic!("no {series_name}:\n{text}"));
    assert!((not_after - after..=not_after - before).contains(&seconds), "{seconds} vs notAfter {not_after}");
}

async fn expiry_gauge_follows_the_certificates(backend: Backend) {
    let mut world = World::start(backend).await;
    let a = world.account("acc-exp").await;
    let api = &world.gateways[0];
    let id = api.upload_certificate(&a.bearer, "acc-exp", "expiring").await;
    let not_after = not_after(api, &a.bearer, "acc-exp", id).await;
    let gauge = format!("mtls_certificate_expiry_seconds{{account=\"acc-exp\",certificate=\"{id}\"}}");

    let now = mtls_server::clock::now_unix;
    let before = now();
    let text = api.metrics().await;
    let after = now();
    assert_seconds_to(&text, &gauge, not_after, before, after);
    // openssl -days 30: the gauge says about 30 days.
    assert!((29 * 86_400..=30 * 86_400 + 60).contains(&series(&text, &gauge).unwrap_or(0)), "{text}");
    assert_no_secret(&api.gateway, &text);

    // A restarted gateway knows it from the store alone (its walk at start).
    world.gateways[0].gateway.restart();
    let api = &world.gateways[0];
    let text = scrape_until(&api.gateway, |t| t.contains(&gauge)).await;
    let seconds = series(&text, &gauge).unwrap_or(0);
    assert!((not_after - now() - 5..=not_after - before).contains(&seconds), "{seconds}");

    // A delete takes it off the gauge at once.
    let resp = support::client()
        .delete(format!("{}/mtls/account/acc-exp/certificates/{id}", api.gateway.base_url()))
        .header("authorization", match &a.bearer { Cred::Bearer(token) => format!("Bearer {token}"), _ => unreachable!() })
        .send()
        .await
        .expect("delete");
    assert_eq!(resp.status(), 200);
    let text = scrape_until(&api.gateway, |_| true).await;
    assert!(!text.contains(&gauge), "{text}");
    assert_no_secret(&api.gateway, &text);
}

#[tokio::test]
async fn store_errors_are_counted_while_openbao_is_stopped() {
    let mut world = World::start(Backend::Vault).await;
    let a = world.account("acc-down").await;
    let api = &world.gateways[0];
    let errors = |text: &str| -> i64 {
        ["read", "write", "delete", "list", "ping"]
            .iter()
            .filter_map(|op| {
                series(text, &format!("mtls_store_operation_errors_total{{operation=\"{op}\",error=\"unavailable\"}}"))
            })
            .sum()
    };
    let route = "mtls_http_requests_total{route=\"/mtls/account/{account}/certificates\",method=\"GET\",status=\"503\"}";
    let before = api.metrics().await;
    assert_eq!(errors(&before), 0, "{before}");
    let lists = "mtls_store_operation_duration_seconds_count{operation=\"list\"}";

    world.stop_openbao();
    let api = &world.gateways[0];
    let (status, _, body) = api.send("GET", "/mtls/account/acc-down/certificates", &a.bearer, None).await;
    assert_eq!(status, 503, "{body}");
    let after = api.metrics().await;
    // Background work (the claim lease) may fail too, so at least the request's own list.
    assert!(errors(&after) >= 1, "{after}");
    assert!(series(&after, lists) > series(&before, lists), "failed operations are timed too");
    assert_eq!(series(&after, route), Some(1), "{after}");
    assert_no_secret(&api.gateway, &after);
}

// === the same suite on both stores ===

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod vault {
            $(#[tokio::test] async fn $name() { super::$name(super::Backend::Vault).await })*
        }
        mod embedded {
            $(#[tokio::test] async fn $name() { super::$name(super::Backend::Embedded).await })*
        }
    };
}

on_both_stores!(expiry_gauge_follows_the_certificates);
