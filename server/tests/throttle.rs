//! Throttling (SPEC section 7) through the production middleware stack: per client IP, burst and
//! rate from the configuration, 429 with `Retry-After` and the SPEC error body, trusted-proxy
//! `X-Forwarded-For`, operations endpoints exempt.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod mtls_targets;

use mtls_server::config::Config;
use mtls_targets::TestGateway;

fn config(rate: u32, burst: u32, trusted: &[&str]) -> Config {
    let mut config = Config::for_tests(std::env::temp_dir());
    config.throttle.rate_limit_per_second = rate;
    config.throttle.rate_limit_burst = burst;
    config.throttle.trusted_proxies = trusted.iter().map(|t| t.parse().unwrap()).collect();
    config
}

/// Sends `n` requests to a throttled route one after the other; returns the statuses.
async fn burst(gateway: &TestGateway, n: usize, xff: Option<&str>) -> Vec<u16> {
    let client = mtls_targets::client();
    let mut statuses = Vec::new();
    for _ in 0..n {
        let mut req = client.get(format!("{}/mtls/account/acc", gateway.base)).header("LP-forward-url", "https://127.0.0.1/");
        if let Some(xff) = xff {
            req = req.header("X-Forwarded-For", xff);
        }
        statuses.push(req.send().await.unwrap().status().as_u16());
    }
    statuses
}

fn allowed(statuses: &[u16]) -> usize {
    statuses.iter().filter(|s| **s != 429).count()
}

#[tokio::test]
async fn exactly_the_burst_passes_then_429_with_retry_after() {
    // One token a second and a burst of 10: 15 requests in well under a second let 10 through
    // (a second token would need a full second).
    let gateway = TestGateway::start(config(1, 10, &[]));
    let statuses = burst(&gateway, 15, None).await;
    assert_eq!(allowed(&statuses), 10, "{statuses:?}");
    assert!(statuses[..10].iter().all(|s| *s == 401), "unauthenticated but not throttled: {statuses:?}");

    let resp = mtls_targets::client()
        .get(format!("{}/mtls/account/acc", gateway.base))
        .header("X-Request-Id", "throttled-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=1).contains(&retry), "Retry-After {retry}");
    assert_eq!(resp.headers()["x-request-id"], "throttled-1");
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    assert_eq!(body["requestId"], "throttled-1");

    // Operations endpoints are never throttled, even now.
    let client = mtls_targets::client();
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        for _ in 0..15 {
            let status = client.get(format!("{}{path}", gateway.base)).send().await.unwrap().status();
            assert_ne!(status, 429, "{path}");
        }
    }
}

#[tokio::test]
async fn the_rate_refills_the_bucket() {
    // One token a second, a burst of 2. A burst takes a few milliseconds on a quiet machine; on
    // a loaded one it may take over a second, and then a refilled token lets one more through:
    // each bound allows exactly the tokens the elapsed whole seconds can have added.
    let gateway = TestGateway::start(config(1, 2, &[]));
    let started = std::time::Instant::now();
    let first = allowed(&burst(&gateway, 4, None).await);
    let refilled = started.elapsed().as_secs() as usize;
    assert!((2..=2 + refilled).contains(&first), "{first} allowed, {refilled} s");
    // Drained: only a refill can let the next request through.
    let mut drained = false;
    for _ in 0..10 {
        if allowed(&burst(&gateway, 1, None).await) == 0 {
            drained = true;
            break;
        }
    }
    assert!(drained, "one token a second cannot let ten requests in a row through");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let started = std::time::Instant::now();
    let second = allowed(&burst(&gateway, 4, None).await);
    let refilled = started.elapsed().as_secs() as usize;
    // Two seconds refill two tokens, and the burst caps the bucket at two.
    assert!((2..=2 + refilled).contains(&second), "{second} allowed after the pause, {refilled} s");
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    // The peer (127.0.0.1) is a trusted proxy: each client behind it has its own bucket.
    let gateway = TestGateway::start(config(1, 3, &["127.0.0.1/32"]));
    assert_eq!(allowed(&burst(&gateway, 5, Some("203.0.113.7")).await), 3);
    assert_eq!(allowed(&burst(&gateway, 5, Some("203.0.113.8")).await), 3, "another client is unaffected");
    // A client cannot escape by prepending addresses: the rightmost untrusted one counts.
    assert_eq!(allowed(&burst(&gateway, 2, Some("198.51.100.1, 203.0.113.7")).await), 0);
    // A trusted hop on the right is skipped.
    assert_eq!(allowed(&burst(&gateway, 2, Some("203.0.113.8, 127.0.0.1")).await), 0);

    // Without trust, the header is ignored: everyone from 127.0.0.1 shares one bucket.
    let untrusting = TestGateway::start(config(1, 3, &[]));
    assert_eq!(allowed(&burst(&untrusting, 2, Some("203.0.113.7")).await), 2);
    assert_eq!(allowed(&burst(&untrusting, 3, Some("203.0.113.8")).await), 1);
}
